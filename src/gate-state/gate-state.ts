/**
 * The gate's state, defined once (the gate-state module: below tickets, payments and validation, which all use it). Every Redis key and hash field the gates read or write, gate.lua's
 * arguments and answer, and the tap event it appends to the stream are defined here and nowhere
 * else: gate-script.ts builds the arguments and parses the answer from these lists, gate.lua is
 * loaded with a prelude generated from them (`luaPrelude`), the tap persister's SQL columns are
 * made from `TAP_EVENT_FIELDS`, and test/integration/gate-state.spec.ts holds gate.lua to them.
 *
 * Every subject (a ticket `t:<id>`, a pay-as-you-go account `a:<id>`) belongs to one of GATE_SHARDS
 * shards (`shardOf`), and every key one tap touches carries its shard's hash tag `{g<shard>}`, so
 * that on Redis Cluster gate.lua touches one slot only (README "Redis Cluster"):
 *   {g<s>}:t:<id>:state            the ticket's state, TICKET_STATE_FIELDS (written by the tickets module; the gate sets firstUsedAt)
 *   {g<s>}:a:<id>:wallet           WALLET_FIELDS: balance (the wallet, minus charges not yet in Postgres), status active|blocked
 *   {g<s>}:t:<id>:trip / …a:<id>:trip  the open journey, TRIP_FIELDS
 *   {g<s>}:a:<id>:spend            pay-as-you-go spend per local day and week, for the caps: SPEND_FIELD prefixes + day or week number
 *   {g<s>}:a:<id>:moved:<movement> a wallet movement already applied to the balance (expires)
 *   {g<s>}:a:<id>:spend-lowered:<refund>  a refund already taken off the spend (expires)
 *   {g<s>}:tap:<device>:<tapId>    the tap's body and verdict, for replays (expires after the tap memory)
 *   {g<s>}:<GATE_TAP_STREAM>       the shard's tap stream
 *   {g<s>}:open-journeys           the shard's open journeys, by when each times out
 *   {g<s>}:m:<hash>:medium         a medium (card) by its look-up hash: MEDIUM_FIELDS, and the counters a transit card
 *                                  presented (MEDIUM_COUNTER_PREFIX + counter = the tap that presented it)
 *   {g<s>}:m:<hash>:trip           the open journey of a ride without an account (kind `free`: a CCCD of a rider of 60+)
 *   {g<s>}:a:<id>:rider            the account's rider category over time (riderCategoriesValue; absent: adult), written by
 *                                  the accounts module through AccountGateState; what the account's cards ride at
 *   {g<s>}:a:<id>:passes           the account's passes, for its media (cards) at the gates: ticket id → accountPassValue
 *                                  (written with each pass's state by TicketStateStore; its live state stays in …:t:<id>:state)
 *   {g<s>}:undone:<device>:<tapId>:<at>:<journey>  a tap the record refused, already undone (undo-tap.lua; expires)
 *   {g<s>}:c:<card>:card           a bank card's CARD_FIELDS (written by CardGateState for the bank-cards module:
 *                                  its deny list and its link); …:c:<card>:trip and …:c:<card>:spend of an unlinked card
 * and outside the shards (one key per command): `{d:<device>}:tap:<tapId>`, the body a device's tap id was
 * first used with (TAP_ID_REUSED across shards); and GATE_STATE_BUILT_KEY.
 */
import type { GateConfig } from '../config/config';
import { DAY_MS, LOCAL_UTC_OFFSET_MS } from '../fares/domain/local-time';

/** single and pass: a ticket; payg: an account; free: a medium that rides free without an account (its look-up hash). */
export type SubjectKind = 'single' | 'pass' | 'payg' | 'free' | 'bank_card';

/** Set once the gate state was built from Postgres; absent after Redis lost its data. */
export const GATE_STATE_BUILT_KEY = 'gate:state-built';

const SUBJECT_PREFIX: Readonly<Record<SubjectKind, string>> = { single: 't:', pass: 't:', payg: 'a:', free: 'm:', bank_card: 'c:' };

/** A member of a shard's open-journey index: `t:<ticketId>`, `a:<accountId>` or `m:<lookupHash>`. */
export function openJourneyMember(kind: SubjectKind, id: string): string {
  return SUBJECT_PREFIX[kind] + id;
}

/** The shard of a subject: FNV-1a (32 bits) of its member, modulo the shard count. Changing GATE_SHARDS moves every key (README "Redis Cluster"). */
export function shardOf(member: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < member.length; i++) {
    hash ^= member.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** Every gate key, for a configured shard count (GATE_SHARDS) and tap stream name (GATE_TAP_STREAM). */
export class GateKeys {
  readonly shards: number;
  private readonly stream: string;

  constructor(gate: Pick<GateConfig, 'shards' | 'streamKey'>) {
    this.shards = gate.shards;
    this.stream = gate.streamKey;
  }

  /** 0 … shards − 1. */
  allShards(): number[] {
    return Array.from({ length: this.shards }, (_, shard) => shard);
  }

  shardOfSubject(kind: SubjectKind, id: string): number {
    return shardOf(openJourneyMember(kind, id), this.shards);
  }

  /** `{g<s>}:t:<id>`, `{g<s>}:a:<id>` or `{g<s>}:m:<hash>`: the start of every key of one subject. */
  subject(kind: SubjectKind, id: string): string {
    const member = openJourneyMember(kind, id);
    return `${shardTag(shardOf(member, this.shards))}:${member}`;
  }

  ticketState(ticketId: string): string {
    return `${this.subject('single', ticketId)}:state`;
  }

  wallet(accountId: string): string {
    return `${this.subject('payg', accountId)}:wallet`;
  }

  /** The account's rider category over time (riderCategoriesValue), in the account's slot. */
  riderCategories(accountId: string): string {
    return `${this.subject('payg', accountId)}:rider`;
  }

  /** The account's passes (ticket id → accountPassValue), in the account's slot: what a card of the account may ride on. */
  accountPasses(accountId: string): string {
    return `${this.subject('payg', accountId)}:passes`;
  }

  /** A medium (card) by its look-up hash (written by MediaGateState; medium.lua keeps its counters). */
  medium(lookupHash: string): string {
    return `${this.subject('free', lookupHash)}:medium`;
  }

  /** gate.lua's first key: the ticket's state, the account's wallet, or for a free ride its medium (not read). */
  subjectState(kind: SubjectKind, id: string): string {
    return kind === 'payg' ? this.wallet(id) : kind === 'free' ? this.medium(id) : kind === 'bank_card' ? this.card(id) : this.ticketState(id);
  }

  trip(kind: SubjectKind, id: string): string {
    return `${this.subject(kind, id)}:trip`;
  }

  /** Pay-as-you-go spend; a ticket's (never written) only gives gate.lua a key in the ticket's slot. */
  spend(kind: SubjectKind, id: string): string {
    return `${this.subject(kind, id)}:spend`;
  }

  moved(accountId: string, movementId: string): string {
    return `${this.subject('payg', accountId)}:moved:${movementId}`;
  }

  spendLowered(accountId: string, refundId: string): string {
    return `${this.subject('payg', accountId)}:spend-lowered:${refundId}`;
  }

  /** The tap's body and verdict, in the slot of the tap's subject. */
  tapMemory(kind: SubjectKind, subjectId: string, deviceId: string, tapId: string): string {
    return `${shardTag(this.shardOfSubject(kind, subjectId))}:tap:${deviceId}:${tapId}`;
  }

  /** One application of gate.lua to a tap is its `at` and the journey it opened or closed (tapUndoId): undone once. */
  tapUndone(kind: SubjectKind, subjectId: string, deviceId: string, tapId: string, undoId: string): string {
    return `${shardTag(this.shardOfSubject(kind, subjectId))}:undone:${deviceId}:${tapId}:${undoId}`;
  }

  /** A bank card's gate state (CARD_FIELDS), read and written one key at a time. */
  card(cardId: string): string {
    return `${this.subject('bank_card', cardId)}:card`;
  }

  /** The body a device's tap id was first used with, whatever its subject's shard (TAP_ID_REUSED). */
  tapClaim(deviceId: string, tapId: string): string {
    return `{d:${deviceId}}:tap:${tapId}`;
  }

  tapStream(shard: number): string {
    return `${shardTag(shard)}:${this.stream}`;
  }

  /** Sorted by when each open journey times out; members `openJourneyMember`. */
  openJourneys(shard: number): string {
    return `${shardTag(shard)}:open-journeys`;
  }
}

function shardTag(shard: number): string {
  return `{g${shard}}`;
}

/**
 * `{g<s>}:c:<cardId>:card`: a bank card's gate state: `status` active | denied (absent: an unknown card,
 * accepted); for a card linked to an account, `account` and `cat` (the account's rider category when
 * it was linked), with which the card opens that account's pay as you go.
 */
export const CARD_FIELDS = ['status', 'account', 'cat'] as const;
export type CardField = (typeof CARD_FIELDS)[number];

/**
 * `…:m:<hash>:medium` (written by MediaGateState for the media module; medium.lua keeps the counters):
 * kind, status active|blocked|replaced, account ('' for a card not linked yet; its rider category is the
 * account's, `…:a:<id>:rider`), id the medium's id, chk (chip ID cards) the HMAC of number and date of birth given at linking,
 * ctr the highest counter a transit card presented.
 */
export const MEDIUM_FIELDS = ['kind', 'status', 'account', 'id', 'chk', 'ctr'] as const;
export type MediumField = (typeof MEDIUM_FIELDS)[number];
/** `c:<counter>` → the tap (`<device> <tapId>`) that presented it; the lowest are dropped past MEDIUM_COUNTERS_KEPT. */
export const MEDIUM_COUNTER_PREFIX = 'c:';
export const MEDIUM_COUNTERS_KEPT = 64;

/** medium.lua's ARGV, in order. */
export const MEDIUM_ARGS = ['at', 'offline', 'counter', 'tap', 'device', 'tapId'] as const;
/**
 * medium.lua's answer, joined by OUTCOME_SEPARATOR: the medium's fields (MEDIUM_FIELDS but ctr; '' when
 * unknown) and what its counter says: `none` (no counter), `ok`, `replay` (this tap's own counter again)
 * or `clone` (a counter another tap presented, or online one not above the highest: the card is now blocked).
 */
export const MEDIUM_ANSWER_FIELDS = ['kind', 'status', 'account', 'id', 'chk', 'counter'] as const;
export type MediumAnswerField = (typeof MEDIUM_ANSWER_FIELDS)[number];

/** A rider category from an instant (epoch ms) on: `…:a:<id>:rider` holds them in order, `<category>@<from>` joined by ','. */
export interface RiderCategoryFrom {
  readonly from: number;
  readonly category: string;
}

export function riderCategoriesValue(spans: readonly RiderCategoryFrom[]): string {
  return spans.map((span) => `${span.category}@${span.from}`).join(',');
}

/** The category of `at` in a `…:a:<id>:rider` value; adult without one. */
export function riderCategoryAt(value: string | null, at: number): string {
  let category = 'adult';
  if (value === null) return category;
  for (const span of value.split(',')) {
    const split = span.indexOf('@');
    if (Number(span.slice(split + 1)) > at) break;
    category = span.slice(0, split);
  }
  return category;
}

/**
 * A pass in `…:a:<id>:passes`: what does not change over its life, so that a card's tap can pick the
 * passes that may cover it before reading their live state: modes and line ids (comma-separated, ''
 * every line), the last instant it can be valid (epoch ms) and when its entry may go (epoch ms).
 */
export interface AccountPass {
  readonly ticketId: string;
  readonly modes: readonly string[];
  readonly lineIds: readonly string[] | null;
  readonly validityEnd: number;
  readonly keepUntil: number;
}
const ACCOUNT_PASS_SEPARATOR = '|';

export function accountPassValue(pass: AccountPass): string {
  return [pass.modes.join(','), pass.lineIds?.join(',') ?? '', pass.validityEnd, pass.keepUntil].join(ACCOUNT_PASS_SEPARATOR);
}

export function parseAccountPass(ticketId: string, value: string): AccountPass | undefined {
  const [modes, lineIds, validityEnd, keepUntil] = value.split(ACCOUNT_PASS_SEPARATOR);
  if (keepUntil === undefined) return undefined;
  return { ticketId, modes: modes === '' ? [] : modes.split(','), lineIds: lineIds === '' ? null : lineIds.split(','), validityEnd: Number(validityEnd), keepUntil: Number(keepUntil) };
}

/** `…:t:<id>:state` (see ticket-state.store.ts for what each holds). */
export const TICKET_STATE_FIELDS = [
  'version',
  'status',
  'kind',
  'account',
  'riderCategory',
  'modes',
  'lineIds',
  'origin',
  'destination',
  'activation',
  'validFrom',
  'validUntil',
  'validityDays',
  'firstUseBy',
  'firstUsedAt',
] as const;
export type TicketStateField = (typeof TICKET_STATE_FIELDS)[number];

/** `…:a:<id>:wallet`. */
export const WALLET_FIELDS = ['balance', 'status'] as const;
export type WalletField = (typeof WALLET_FIELDS)[number];

/**
 * `{…}:trip`: jid journey id, st entry station, ln line, at entry time (epoch ms), bit the line's mode
 * bit, max and full the line's maximum fare (charged at a timeout, and held against wallet spending),
 * cat rider category, pay the linked bank card that pays an account's journey ('' or absent: the wallet).
 */
export const TRIP_FIELDS = ['jid', 'st', 'ln', 'at', 'bit', 'max', 'full', 'cat', 'pay'] as const;
export type TripField = (typeof TRIP_FIELDS)[number];

/**
 * `…:a:<id>:spend`: for each local day `<daySpent><day number>` (đồng charged that day) and
 * `<dayModes><day>` (mode bits travelled), and likewise per local week. A tap is capped by its own
 * day and week, so a late offline tap never moves another day's spend.
 */
export const SPEND_FIELD = { daySpent: 'd:', dayModes: 'dm:', weekSpent: 'w:', weekModes: 'wm:' } as const;

export function spendField(kind: keyof typeof SPEND_FIELD, number: number): string {
  return SPEND_FIELD[kind] + number;
}

/** Offline taps are accepted up to this long after they happened (the batch window). */
export const BATCH_WINDOW_MS = 30 * DAY_MS;
/** A spend hash outlives the batch window: a late tap still finds its day's spend. */
export const SPEND_TTL_MS = 32 * DAY_MS;
/** Spend fields kept before old ones are pruned: about the batch window's days and weeks. */
export const SPEND_MAX_FIELDS = 80;

/** gate.lua's ARGV, in order (1-based in Lua). After them: day caps (7), week caps (7), then fares to here (triples). */
export const GATE_ARGS = [
  'at',
  'direction',
  'kind',
  'nodeReason',
  'device',
  'tapId',
  'station',
  'line',
  'modeBit',
  'journeyId',
  'offline',
  'tapMemorySeconds',
  'journeyLimitMs',
  'subject',
  'riderCategory',
  'dayNumber',
  'weekNumber',
  'maxFare',
  'maxFullFare',
  'keepFromDay',
  'keepFromWeek',
  'mediumKind',
  'mediumRef',
  'cardToken',
  'mediumCounter',
] as const;
export type GateArg = (typeof GATE_ARGS)[number];
/** Capping looks at the modes of the day as bits; these are all seven combinations. */
export const MODE_COMBINATIONS = 7;
/** 0-based index of each argument in the ARGV array. */
export const GATE_ARG: Readonly<Record<GateArg, number>> = Object.fromEntries(GATE_ARGS.map((name, index) => [name, index])) as Record<GateArg, number>;
/** 0-based index of the day cap for mode bits 1; week caps follow the seven day caps, fares to here the week caps. */
export const DAY_CAPS_ARG = GATE_ARGS.length;
export const WEEK_CAPS_ARG = DAY_CAPS_ARG + MODE_COMBINATIONS;
export const FARES_TO_HERE_ARG = WEEK_CAPS_ARG + MODE_COMBINATIONS;

/** gate.lua's answer to a tap: these fields joined by '|'. */
export const OUTCOME_FIELDS = ['verdict', 'reason', 'valid', 'charge', 'balance', 'jid', 'fare'] as const;
export type OutcomeField = (typeof OUTCOME_FIELDS)[number];
export const OUTCOME_SEPARATOR = '|';
/** Between a remembered tap's body and its answer in the tap memory. */
export const TAP_BODY_SEPARATOR = '\n';

/**
 * A tap or a journey's timeout as gate.lua appends it to the tap stream: one JSON object in the
 * entry's one field `t`, every value a string. The tap persister's columns are these.
 *   ev tap|timeout  at epoch ms  dev device  tap tap id  dir entry|exit  st station  ln line
 *   kind single|pass|payg  sub ticket or account id  acct the account  cat rider category
 *   verdict, reason, valid '1'|'0', off offline '1'|'0'
 *   jid journey  jat its entry time  jst its entry station  fare, full the fare and its full amount  charge what was charged  bal balance after
 *   med the medium's kind ('' a QR)  mid the medium's look-up hash
 *   mctr the counter a transit card presented (the media module keeps the highest in Postgres: clones stay found after Redis loses its data)
 *   ctok a bank card's token, sealed (AES-256-GCM; the card's journeys keep it for the charge job)
 *   pay the linked bank card that pays the account's journey (its entry's card; '' the wallet)
 * and, from medium.lua, `ev: clone` (at, dev, tap, med, mid the medium's id): a transit card presented a counter twice and was blocked.
 * A tap also carries what it changed beyond that, present only when it did, so that a tap the record refuses can
 * be undone exactly (undo-tap.lua):
 *   sd, sw the local day and week whose spend its charge went to; dm, wm the mode bits it added to them
 *   fu '1' when it began the ticket's first use (firstUsedAt = at)  tj the journey it opened
 *   tbit, tmax, tfull, tcat the journey it closed (jid, jat, jst, ln): its TRIP_FIELDS bit, max, full, cat
 */
export const TAP_EVENT_FIELDS = [
  'ev',
  'at',
  'dev',
  'tap',
  'dir',
  'st',
  'ln',
  'kind',
  'sub',
  'acct',
  'cat',
  'verdict',
  'reason',
  'valid',
  'off',
  'jid',
  'jat',
  'jst',
  'fare',
  'full',
  'charge',
  'bal',
  'med',
  'mid',
  'ctok',
  'pay',
  'sd',
  'sw',
  'dm',
  'wm',
  'fu',
  'tj',
  'tbit',
  'tmax',
  'tfull',
  'tcat',
  'mctr',
] as const;
export type TapEventField = (typeof TAP_EVENT_FIELDS)[number];
/** The one field of a stream entry. */
export const TAP_EVENT_STREAM_FIELD = 't';

/** A tap event as the persister reads it: timeouts carry fewer fields than taps. */
export type TapEvent = { readonly [K in TapEventField]?: string } & { readonly ev: 'tap' | 'timeout' | 'clone'; readonly at: string };

/** What identifies one application of gate.lua to a tap (its undo's once-marker, tap_conflicts' key): its time and the journey it opened or closed. */
export function tapUndoId(event: TapEvent): string {
  return `${event.at}:${event.tj || event.jid || ''}`;
}

/**
 * undo-tap.lua's ARGV, in order (1-based in Lua, table U): what a tap the record refused changed
 * (its event's fields), and what the record holds for its (device, tap id). After them, from
 * U.recordedAnswer, the recorded answer field by field in OUTCOME_FIELDS' order ('' when there is none).
 */
export const UNDO_ARGS = [
  'markerSeconds',
  'kind',
  'subject',
  'charge',
  'dayNumber',
  'weekNumber',
  'dayModes',
  'weekModes',
  'firstUse',
  'openedJourney',
  'closedJourney',
  'tripStation',
  'tripLine',
  'tripAt',
  'tripBit',
  'tripMax',
  'tripFull',
  'tripCategory',
  'payer',
  'journeyLimitMs',
  'tapMemorySeconds',
  'recordedBody',
] as const;
export type UndoArg = (typeof UNDO_ARGS)[number];
export const UNDO_ARG: Readonly<Record<UndoArg, number>> = Object.fromEntries(UNDO_ARGS.map((name, index) => [name, index])) as Record<UndoArg, number>;
export const RECORDED_ANSWER_ARG = UNDO_ARGS.length;
/** How long an undone tap's marker is kept: longer than its stream entry can wait to be written (the batch window and more). */
export const TAP_UNDO_MARKER_SECONDS = SPEND_TTL_MS / 1000;

/** What makes two taps with one (device, tap id) the same tap: its subject, direction and station, and the medium when one was shown. */
export function tapBody(kind: string, subject: string, direction: string, station: string, medium = ''): string {
  return medium === '' ? `${kind}:${subject}:${direction}:${station}` : `${kind}:${subject}:${direction}:${station}:${medium}`;
}

/**
 * The Lua the gate's scripts start with, made from the definitions above: argument positions (A for gate.lua, U for undo-tap.lua),
 * hash fields (TICKET, WALLET, TRIP), spend field prefixes, the answer's and the event's encoders,
 * and the day length and local offset. A script refers to these names only (gate-state.spec checks).
 */
export function luaPrelude(): string {
  const table = (name: string, entries: Array<[string, string | number]>) =>
    `local ${name} = { ${entries.map(([key, value]) => `${key} = ${typeof value === 'number' ? value : `'${value}'`}`).join(', ')} }`;
  return [
    '-- Generated by gate-state.ts (luaPrelude): do not edit here.',
    table('A', [...GATE_ARGS.map((name, index): [string, number] => [name, index + 1]), ['dayCaps', DAY_CAPS_ARG + 1], ['weekCaps', WEEK_CAPS_ARG + 1], ['faresToHere', FARES_TO_HERE_ARG + 1]]),
    table('U', [...UNDO_ARGS.map((name, index): [string, number] => [name, index + 1]), ['recordedAnswer', RECORDED_ANSWER_ARG + 1]]),
    table('TICKET', TICKET_STATE_FIELDS.map((name) => [name, name])),
    table('WALLET', WALLET_FIELDS.map((name) => [name, name])),
    table('CARD', CARD_FIELDS.map((name) => [name, name])),
    table('TRIP', TRIP_FIELDS.map((name) => [name, name])),
    table('SPEND', Object.entries(SPEND_FIELD)),
    table('MEDIUM', MEDIUM_FIELDS.map((name) => [name, name])),
    table('MA', MEDIUM_ARGS.map((name, index): [string, number] => [name, index + 1])),
    `local ACCOUNT_PASS_SEPARATOR = '${ACCOUNT_PASS_SEPARATOR}'`,
    `local MEDIUM_COUNTER_PREFIX, MEDIUM_COUNTERS_KEPT = '${MEDIUM_COUNTER_PREFIX}', ${MEDIUM_COUNTERS_KEPT}`,
    `local MEDIUM_ANSWER_FIELDS = { ${MEDIUM_ANSWER_FIELDS.map((name) => `'${name}'`).join(', ')} }`,
    `local DAY, LOCAL_OFFSET, SPEND_TTL, SPEND_MAX_FIELDS = ${DAY_MS}, ${LOCAL_UTC_OFFSET_MS}, ${SPEND_TTL_MS}, ${SPEND_MAX_FIELDS}`,
    `local OUTCOME_FIELDS = { ${OUTCOME_FIELDS.map((name) => `'${name}'`).join(', ')} }`,
    `local EVENT_FIELDS = { ${TAP_EVENT_FIELDS.map((name) => `${name} = true`).join(', ')} }`,
    `local OUTCOME_SEPARATOR, TAP_BODY_SEPARATOR, EVENT_STREAM_FIELD = '${OUTCOME_SEPARATOR}', '\\n', '${TAP_EVENT_STREAM_FIELD}'`,
    // The answer, field by field in OUTCOME_FIELDS' order.
    `local function encode_outcome(o)
  local parts = {}
  for i, name in ipairs(OUTCOME_FIELDS) do parts[i] = tostring(o[name] or '') end
  return table.concat(parts, OUTCOME_SEPARATOR)
end`,
    `local function encode_medium_answer(o)
  local parts = {}
  for i, name in ipairs(MEDIUM_ANSWER_FIELDS) do parts[i] = tostring(o[name] or '') end
  return table.concat(parts, OUTCOME_SEPARATOR)
end`,
    // The event: only fields TAP_EVENT_FIELDS defines, every value a string.
    `local function encode_event(event)
  for name, value in pairs(event) do
    if not EVENT_FIELDS[name] then error('gate.lua: the tap event has no field ' .. name) end
    event[name] = tostring(value)
  end
  return cjson.encode(event)
end`,
    '',
  ].join('\n');
}
