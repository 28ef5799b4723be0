import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { TimeoutError } from 'redis';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { LuaScript } from '../redis/lua-script';
import { RedisService, type RedisClient } from '../redis/redis.service';
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

/**
 * The gate's one Redis round trip: gate.lua, with its keys built from the tap, on a connection of its
 * own. That connection fails fast: while Redis is away a tap is refused at once (503, and the
 * validator keeps it for its offline upload) rather than queued to be applied whenever Redis returns,
 * and no other work on the shared connection (a rebuild's pipeline, a purchase) can delay a tap.
 * Its deadline is a plain timer cleared on the answer: node-redis's own per-command timeout
 * (AbortSignal.timeout) leaves a 5 s timer and a finalizer behind every command, which at gate
 * rates fills the old generation and slows every young-generation collection.
 */
@Injectable()
export class GateScript implements OnModuleInit, OnModuleDestroy {
  private readonly script = LuaScript.fromFile(join(__dirname, 'gate.lua'));
  private readonly stream: string;
  private readonly tapMemorySeconds: string;
  private readonly journeyLimitMs: string;
  private readonly timeoutMs: number;
  private readonly client: RedisClient;

  constructor(redis: RedisService, @Inject(APP_CONFIG) config: AppConfig) {
    this.stream = config.gate.streamKey;
    this.tapMemorySeconds = String(config.gate.tapMemorySeconds);
    this.journeyLimitMs = String(config.gate.journeyLimitMinutes * 60_000);
    this.timeoutMs = config.gate.redisTimeoutMs;
    this.client = redis.client.duplicate({ disableOfflineQueue: true, commandOptions: { timeout: 0 } });
    // Errors also surface on the commands that fail; without a listener node-redis would crash the process.
    this.client.on('error', () => undefined);
  }

  async onModuleInit(): Promise<void> {
    await this.client.connect();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }

  async run(call: GateCall): Promise<GateOutcome> {
    return parseOutcome((await this.runScript(call)) as string);
  }

  /** Closes the subject's open journey if it is past the limit (the sweeper); true when it closed one. */
  async closeIfStale(call: GateCall): Promise<boolean> {
    return (await this.runScript(call)) === 'closed';
  }

  private runScript(call: GateCall): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimeoutError()), this.timeoutMs);
      this.script.run(this.client, keysFor(call, this.stream), gateArguments(call, this.tapMemorySeconds, this.journeyLimitMs)).then(
        (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
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
