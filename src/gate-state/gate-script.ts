import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { TimeoutError } from 'redis';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { LuaScript } from '../redis/lua-script';
import { RedisService, type RedisClient } from '../redis/redis.service';
import { localDayNumber, localWeekNumber } from '../fares/domain/local-time';
import {
  BATCH_WINDOW_MS,
  CARD_FIELDS,
  DAY_CAPS_ARG,
  FARES_TO_HERE_ARG,
  GATE_ARG,
  GATE_ARGS,
  MEDIUM_ANSWER_FIELDS,
  MEDIUM_ARGS,
  OUTCOME_FIELDS,
  OUTCOME_SEPARATOR,
  WEEK_CAPS_ARG,
  GateKeys,
  luaPrelude,
  parseAccountPass,
  tapBody,
  type AccountPass,
  type SubjectKind,
  type TicketStateField,
  type TripField,
} from './gate-state';

export type GateDirection = 'entry' | 'exit' | 'timeout';

/** One run of gate.lua: what gateArguments turns into its ARGV (gate-state.ts GATE_ARGS). */
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
  /** A tap of a medium rather than a QR: its kind, and its id (or, without an account, its look-up hash). */
  medium?: { kind: string; ref: string };
  /** A bank card's token, sealed (src/bank-cards/card-tokens.ts): carried to its journey for the charge job. */
  cardToken?: string;
  /** A transit card's counter: carried in the tap event, for the media module's record of the highest. */
  mediumCounter?: number;
}

/** What medium.lua found for a medium's look-up hash (gate-state.ts MEDIUM_ANSWER_FIELDS); fields '' when unknown. */
export interface MediumRecord {
  kind: string;
  status: string;
  account: string;
  id: string;
  chk: string;
  counter: 'none' | 'ok' | 'replay' | 'clone';
}

/** A bank card as the gates know it (gate-state.ts CARD_FIELDS); '' when unknown or not linked. */
export interface CardRecord {
  status: string;
  account: string;
  cat: string;
}

/** A medium shown at a gate: its look-up hash, and for a transit card the counter it presented. */
export interface MediumCall {
  lookupHash: string;
  at: number;
  offline: boolean;
  counter?: number;
  deviceId: string;
  tapId: string;
}

/** An open journey as a card's tap needs it to tell which of the account's subjects holds it: its line and entry time. */
export interface OpenTrip {
  lineId: string;
  at: number;
}

/** What a card's tap needs of its account (the account's slot): its passes, its open pay-as-you-go journey, its rider category over time. */
export interface AccountAtGate {
  passes: AccountPass[];
  trip: OpenTrip | null;
  /** `…:a:<id>:rider` (riderCategoryAt reads it); null: adult. */
  categories: string | null;
}

/** A pass's live state (`…:t:<id>:state`, TICKET_STATE_FIELDS as strings, '' when unset) and its open journey. */
export interface LivePass {
  ticketId: string;
  state: Readonly<Record<LivePassField, string>>;
  trip: OpenTrip | null;
}
const LIVE_PASS_FIELDS = ['status', 'riderCategory', 'modes', 'lineIds', 'activation', 'validFrom', 'validUntil', 'validityDays', 'firstUseBy', 'firstUsedAt'] as const satisfies readonly TicketStateField[];
export type LivePassField = (typeof LIVE_PASS_FIELDS)[number];
const TRIP_AT_GATE: readonly TripField[] = ['ln', 'at'];

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
 * own. On Redis Cluster a tap takes two: the device's claim on its tap id (another slot) first, then
 * gate.lua in the subject's slot (README "Redis Cluster"). That connection fails fast: while Redis is away a tap is refused at once (503, and the
 * validator keeps it for its offline upload) rather than queued to be applied whenever Redis returns,
 * and no other work on the shared connection (a rebuild's pipeline, a purchase) can delay a tap.
 * Its deadline is a plain timer cleared on the answer: node-redis's own per-command timeout
 * (AbortSignal.timeout) leaves a 5 s timer and a finalizer behind every command, which at gate
 * rates fills the old generation and slows every young-generation collection.
 */
@Injectable()
export class GateScript implements OnModuleInit, OnModuleDestroy {
  private readonly script = LuaScript.fromFile(join(__dirname, 'gate.lua'), luaPrelude());
  private readonly mediumScript = LuaScript.fromFile(join(__dirname, 'medium.lua'), luaPrelude());
  private readonly tapMemorySeconds: string;
  private readonly journeyLimitMs: string;
  private readonly timeoutMs: number;
  private readonly client: RedisClient;

  private readonly cluster: boolean;

  constructor(
    redis: RedisService,
    private readonly keys: GateKeys,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.cluster = redis.cluster;
    this.tapMemorySeconds = String(config.gate.tapMemorySeconds);
    this.journeyLimitMs = String(config.gate.journeyLimitMinutes * 60_000);
    this.timeoutMs = config.gate.redisTimeoutMs;
    this.client = redis.duplicate({ disableOfflineQueue: true, commandOptions: { timeout: 0 } });
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

  /** A medium's record, and its counter checked (a clone blocks the card): medium.lua, one round trip. */
  async medium(call: MediumCall): Promise<MediumRecord> {
    const keys = [this.keys.medium(call.lookupHash), this.keys.tapStream(this.keys.shardOfSubject('free', call.lookupHash))];
    return parseMediumAnswer((await this.withDeadline(() => this.mediumScript.run(this.client, keys, mediumArguments(call)))) as string);
  }

  /** A card's account: its pass index, pay-as-you-go journey and rider category, in the account's slot (one round trip, pipelined). */
  async account(accountId: string): Promise<AccountAtGate> {
    const [passes, trip, categories] = (await this.withDeadline(() =>
      Promise.all([
        this.client.hGetAll(this.keys.accountPasses(accountId)),
        this.client.hmGet(this.keys.trip('payg', accountId), [...TRIP_AT_GATE]),
        this.client.get(this.keys.riderCategories(accountId)),
      ]),
    )) as [Record<string, string>, Array<string | null>, string | null];
    return {
      passes: Object.entries(passes).flatMap(([ticketId, value]) => parseAccountPass(ticketId, value) ?? []),
      trip: openTrip(trip),
      categories,
    };
  }

  /**
   * The live state and open journey of passes a card's tap may ride on (pipelined over their slots), and
   * the body the device's tap id was first used with (null: a new tap), so that a retry takes the same subject.
   */
  async passes(ticketIds: readonly string[], deviceId: string, tapId: string): Promise<{ passes: LivePass[]; claimed: string | null }> {
    const replies = (await this.withDeadline(() =>
      Promise.all([
        this.client.get(this.keys.tapClaim(deviceId, tapId)),
        ...ticketIds.flatMap((id) => [this.client.hmGet(this.keys.ticketState(id), [...LIVE_PASS_FIELDS]), this.client.hmGet(this.keys.trip('pass', id), [...TRIP_AT_GATE])]),
      ]),
    )) as [string | null, ...Array<Array<string | null>>];
    const passes: LivePass[] = [];
    ticketIds.forEach((ticketId, index) => {
      const values = replies[1 + index * 2] as Array<string | null>;
      if (values[0] === null) return; // gone from the gates: its tickets module state expired
      const state = Object.fromEntries(LIVE_PASS_FIELDS.map((field, at) => [field, values[at] ?? ''])) as Record<LivePassField, string>;
      passes.push({ ticketId, state, trip: openTrip(replies[2 + index * 2] as Array<string | null>) });
    });
    return { passes, claimed: replies[0] };
  }

  /** A bank card's deny-list state and link (one HMGET in the card's slot). */
  async card(cardId: string): Promise<CardRecord> {
    const [status, account, cat] = (await this.withDeadline(() => this.client.hmGet(this.keys.card(cardId), CARD_FIELD_LIST))) as Array<string | null>;
    return { status: status ?? '', account: account ?? '', cat: cat ?? '' };
  }

  private runScript(call: GateCall): Promise<unknown> {
    return this.withDeadline(() => this.claimThenRun(call));
  }

  private withDeadline(work: () => Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimeoutError()), this.timeoutMs);
      work().then(
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

  /** On a cluster the device's tap-id claim lives in another slot than gate.lua's keys: claimed first (SET NX GET). */
  private async claimThenRun(call: GateCall): Promise<unknown> {
    const keys = keysFor(call, this.keys, !this.cluster);
    const args = gateArguments(call, this.tapMemorySeconds, this.journeyLimitMs);
    if (this.cluster && call.direction !== 'timeout') {
      const body = tapBody(call.kind, call.subjectId, call.direction, call.stationId, call.medium?.ref ?? '');
      const claimed = await this.client.set(this.keys.tapClaim(call.deviceId, call.tapId), body, { condition: 'NX', GET: true, expiration: { type: 'EX', value: Number(this.tapMemorySeconds) } });
      if (claimed !== null && claimed !== body) return TAP_ID_REUSED;
    }
    return this.script.run(this.client, keys, args);
  }
}

/** The answer gate.lua gives a tap id this device used for another tap. */
const TAP_ID_REUSED = OUTCOME_FIELDS.map((field) => ({ verdict: 'reject', reason: 'TAP_ID_REUSED', valid: '0', charge: '0' })[field as string] ?? '').join(OUTCOME_SEPARATOR);

const A = GATE_ARG;
const CARD_FIELD_LIST: string[] = [...CARD_FIELDS];
const O = Object.fromEntries(OUTCOME_FIELDS.map((name, index) => [name, index])) as Record<(typeof OUTCOME_FIELDS)[number], number>;

/** ARGV of gate.lua for a tap, placed by gate-state.ts's GATE_ARG positions. */
export function gateArguments(call: GateCall, tapMemorySeconds: string, journeyLimitMs: string, now = Date.now()): string[] {
  const fares = call.fares;
  const args: string[] = new Array<string>(FARES_TO_HERE_ARG + (fares ? fares.faresToHere.length : 0));
  const keepFromDay = localDayNumber(now - BATCH_WINDOW_MS);
  args[A.at] = String(call.at);
  args[A.direction] = call.direction;
  args[A.kind] = call.kind;
  args[A.nodeReason] = call.nodeReason;
  args[A.device] = call.deviceId;
  args[A.tapId] = call.tapId;
  args[A.station] = call.stationId;
  args[A.line] = call.lineId;
  args[A.modeBit] = String(call.modeBit);
  args[A.journeyId] = call.journeyId;
  args[A.offline] = call.offline ? '1' : '0';
  args[A.tapMemorySeconds] = tapMemorySeconds;
  args[A.journeyLimitMs] = journeyLimitMs;
  args[A.subject] = call.subjectId;
  args[A.riderCategory] = call.riderCategory;
  args[A.dayNumber] = fares ? String(fares.dayNumber) : '0';
  args[A.weekNumber] = fares ? String(fares.weekNumber) : '0';
  args[A.maxFare] = fares ? String(fares.maxFare) : '0';
  args[A.maxFullFare] = fares ? String(fares.maxFullFare) : '0';
  args[A.keepFromDay] = String(keepFromDay);
  args[A.keepFromWeek] = String(localWeekNumber(now - BATCH_WINDOW_MS));
  args[A.mediumKind] = call.medium?.kind ?? '';
  args[A.mediumRef] = call.medium?.ref ?? '';
  args[A.cardToken] = call.cardToken ?? '';
  args[A.mediumCounter] = call.mediumCounter === undefined ? '' : String(call.mediumCounter);
  for (let bits = 1; bits <= 7; bits++) {
    args[DAY_CAPS_ARG + bits - 1] = fares ? String(fares.dayCaps[bits]) : '-1';
    args[WEEK_CAPS_ARG + bits - 1] = fares ? String(fares.weekCaps[bits]) : '-1';
  }
  if (fares) for (let i = 0; i < fares.faresToHere.length; i++) args[FARES_TO_HERE_ARG + i] = fares.faresToHere[i];
  return args;
}

function openTrip([lineId, at]: Array<string | null>): OpenTrip | null {
  return lineId && at ? { lineId, at: Number(at) } : null;
}

/** The number of named arguments (tests). */
export const GATE_ARGUMENT_COUNT = GATE_ARGS.length;

/** KEYS of gate.lua for a tap: the subject's slot, and on a single Redis (`withClaim`) the device's tap-id claim. */
export function keysFor(call: Pick<GateCall, 'kind' | 'subjectId' | 'deviceId' | 'tapId'>, keys: GateKeys, withClaim: boolean): string[] {
  const shard = keys.shardOfSubject(call.kind, call.subjectId);
  return [
    keys.subjectState(call.kind, call.subjectId),
    keys.trip(call.kind, call.subjectId),
    keys.tapMemory(call.kind, call.subjectId, call.deviceId, call.tapId),
    keys.spend(call.kind, call.subjectId),
    keys.tapStream(shard),
    keys.openJourneys(shard),
    ...(withClaim ? [keys.tapClaim(call.deviceId, call.tapId)] : []),
  ];
}

/** gate.lua's answer: OUTCOME_FIELDS joined by OUTCOME_SEPARATOR. */
export function parseOutcome(result: string): GateOutcome {
  const fields = result.split(OUTCOME_SEPARATOR);
  const balance = fields[O.balance];
  const journeyId = fields[O.jid];
  const fare = fields[O.fare];
  return {
    verdict: fields[O.verdict] === 'accept' ? 'accept' : 'reject',
    reason: fields[O.reason] ?? 'INVALID_QR',
    valid: fields[O.valid] === '1',
    charge: Number(fields[O.charge]),
    balance: balance ? Number(balance) : null,
    journeyId: journeyId || null,
    fare: fare ? Number(fare) : null,
  };
}

const MA = Object.fromEntries(MEDIUM_ARGS.map((name, index) => [name, index])) as Record<(typeof MEDIUM_ARGS)[number], number>;
const MO = Object.fromEntries(MEDIUM_ANSWER_FIELDS.map((name, index) => [name, index])) as Record<(typeof MEDIUM_ANSWER_FIELDS)[number], number>;

/** ARGV of medium.lua (gate-state.ts MEDIUM_ARGS). */
export function mediumArguments(call: MediumCall): string[] {
  const args = new Array<string>(MEDIUM_ARGS.length);
  args[MA.at] = String(call.at);
  args[MA.offline] = call.offline ? '1' : '0';
  args[MA.counter] = call.counter === undefined ? '' : String(call.counter);
  args[MA.tap] = `${call.deviceId} ${call.tapId}`;
  args[MA.device] = call.deviceId;
  args[MA.tapId] = call.tapId;
  return args;
}

/** medium.lua's answer: MEDIUM_ANSWER_FIELDS joined by OUTCOME_SEPARATOR. */
export function parseMediumAnswer(result: string): MediumRecord {
  const fields = result.split(OUTCOME_SEPARATOR);
  const counter = fields[MO.counter];
  return {
    kind: fields[MO.kind] ?? '',
    status: fields[MO.status] ?? '',
    account: fields[MO.account] ?? '',
    id: fields[MO.id] ?? '',
    chk: fields[MO.chk] ?? '',
    counter: counter === 'ok' || counter === 'replay' || counter === 'clone' ? counter : 'none',
  };
}
