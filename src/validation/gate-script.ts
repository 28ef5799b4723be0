import { Inject, Injectable } from '@nestjs/common';
import { join } from 'node:path';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { LuaScript } from '../redis/lua-script';
import { RedisService } from '../redis/redis.service';
import { OPEN_JOURNEYS_KEY, subjectTag, type SubjectKind } from './gate-keys';

export type GateDirection = 'entry' | 'exit' | 'timeout';

/** One run of gate.lua, argument for argument (see its header). */
export interface GateCall {
  at: number;
  direction: GateDirection;
  kind: SubjectKind;
  subjectId: string;
  /** A refusal the service decided from the signed QR alone ('' when none). */
  nodeReason: string;
  deviceId: string;
  tapId: string;
  stationId: string;
  lineId: string;
  modeBit: number;
  journeyId: string;
  offline: boolean;
  riderCategory: string;
  /** Pay-as-you-go only: the fare data of this tap. */
  fares?: PayAsYouGoFares;
}

export interface PayAsYouGoFares {
  dayNumber: number;
  weekNumber: number;
  maxFare: number;
  maxFullFare: number;
  /** Index = mode bits (1..7); -1 when no pass caps that combination. */
  dayCaps: readonly number[];
  weekCaps: readonly number[];
  /** Exits: [entry station, fare, full fare] for every station of the line. */
  faresToHere: readonly string[];
}

export interface GateOutcome {
  verdict: 'accept' | 'reject';
  reason: string;
  valid: boolean;
  charge: number;
  /** Pay-as-you-go: the balance after the tap; null for tickets. */
  balance: number | null;
  journeyId: string | null;
  fare: number | null;
}

/** The gate's one Redis round trip: gate.lua, with its keys built from the tap. */
@Injectable()
export class GateScript {
  private readonly script = LuaScript.fromFile(join(__dirname, 'gate.lua'));
  private readonly stream: string;
  private readonly tapMemorySeconds: string;
  private readonly journeyLimitMs: string;

  constructor(
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.stream = config.gate.streamKey;
    this.tapMemorySeconds = String(config.gate.tapMemorySeconds);
    this.journeyLimitMs = String(config.gate.journeyLimitMinutes * 60_000);
  }

  async run(call: GateCall): Promise<GateOutcome> {
    return parseOutcome((await this.script.run(this.redis.client, keysFor(call, this.stream), gateArguments(call, this.tapMemorySeconds, this.journeyLimitMs))) as string);
  }

  /** Closes the subject's open journey if it is past the limit (the sweeper); true when it closed one. */
  async closeIfStale(call: GateCall): Promise<boolean> {
    return (await this.script.run(this.redis.client, keysFor(call, this.stream), gateArguments(call, this.tapMemorySeconds, this.journeyLimitMs))) === 'closed';
  }
}

/** ARGV of gate.lua for a tap. */
export function gateArguments(call: GateCall, tapMemorySeconds: string, journeyLimitMs: string): string[] {
  const args = [
    String(call.at),
    call.direction,
    call.kind,
    call.nodeReason,
    call.deviceId,
    call.tapId,
    call.stationId,
    call.lineId,
    String(call.modeBit),
    call.journeyId,
    call.offline ? '1' : '0',
    tapMemorySeconds,
    journeyLimitMs,
    call.subjectId,
    call.riderCategory,
  ];
  const fares = call.fares;
  if (!fares) {
    args.push('0', '0', '0', '0');
    return args;
  }
  args.push(String(fares.dayNumber), String(fares.weekNumber), String(fares.maxFare), String(fares.maxFullFare));
  for (let bits = 1; bits <= 7; bits++) args.push(String(fares.dayCaps[bits]));
  for (let bits = 1; bits <= 7; bits++) args.push(String(fares.weekCaps[bits]));
  for (const value of fares.faresToHere) args.push(value);
  return args;
}

/** KEYS of gate.lua for a tap. */
export function keysFor(call: Pick<GateCall, 'kind' | 'subjectId' | 'deviceId' | 'tapId'>, stream: string): string[] {
  const tag = subjectTag(call.kind, call.subjectId);
  return [
    call.kind === 'payg' ? `${tag}:wallet` : `${tag}:state`,
    `${tag}:trip`,
    `${tag}:tap:${call.deviceId}:${call.tapId}`,
    `${tag}:spend`,
    stream,
    OPEN_JOURNEYS_KEY,
  ];
}

export function parseOutcome(result: string): GateOutcome {
  const [verdict, reason, valid, charge, balance, journeyId, fare] = result.split('|');
  return {
    verdict: verdict === 'accept' ? 'accept' : 'reject',
    reason: reason ?? 'INVALID_QR',
    valid: valid === '1',
    charge: Number(charge),
    balance: balance ? Number(balance) : null,
    journeyId: journeyId || null,
    fare: fare ? Number(fare) : null,
  };
}
