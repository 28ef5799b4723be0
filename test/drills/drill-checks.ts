/**
 * What the fault drill checks after each fault, from Postgres (and the gates' wallet mirror in
 * Redis), against what the drill itself saw: taps, single trips, orders, top-ups and the ledger.
 */
import { Client } from 'pg';
import type { createClient } from 'redis';
import { loadConfig } from '../../src/config/config';
import { GateKeys } from '../../src/gate-state/gate-state';

/** The service the drill runs uses the default shards and stream. */
const gateKeys = new GateKeys(loadConfig().gate);
import { TapBook, type Passengers, type Rider } from './drill-load';

export type RedisClient = ReturnType<typeof createClient>;

export interface DrillCheck {
  phase: string;
  name: string;
  expected: string;
  found: string;
  passed: boolean;
}

/** How many examples of a failure a check names. */
const EXAMPLES = 5;

export function drillCheck(phase: string, name: string, expected: string, found: string, passed: boolean): DrillCheck {
  return { phase, name, expected, found, passed };
}

/** Runs `work` with a fresh connection (Postgres restarts during the drill). */
export async function withPostgres<T>(url: string, work: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  db.on('error', () => undefined);
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end().catch(() => undefined);
  }
}

export interface Drain {
  drained: boolean;
  ms: number;
  /** Read but not acknowledged (not yet written to Postgres), up to the mark. */
  pending: number;
  /** Some taps up to the mark not yet read by any consumer. */
  unread: boolean;
}

/**
 * Waits until the persister has read, written and acknowledged every tap the stream held when this
 * was called, on every shard's stream (with the load paused: the whole streams).
 */
export async function waitForDrain(redis: RedisClient, streams: readonly string[], group: string, timeoutMs: number): Promise<Drain> {
  const started = Date.now();
  // Each shard's stream up to its last entry now; a shard no tap reached has no stream yet.
  const marks: Array<[string, string]> = [];
  for (const stream of streams) {
    if (await redis.exists(stream)) marks.push([stream, (await redis.xInfoStream(stream))['last-generated-id']]);
  }
  for (;;) {
    const states = await Promise.all(marks.map(([stream, mark]) => streamStateUpTo(redis, stream, group, mark).catch(() => ({ pending: -1, unread: true }))));
    const state = {
      pending: states.some((one) => one.pending < 0) ? -1 : states.reduce((total, one) => total + one.pending, 0),
      unread: states.some((one) => one.unread),
    };
    const drained = state.pending === 0 && !state.unread;
    if (drained || Date.now() - started > timeoutMs) return { drained, ms: Date.now() - started, ...state };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function streamStateUpTo(redis: RedisClient, stream: string, group: string, mark: string): Promise<{ pending: number; unread: boolean }> {
  const [groups, pending] = await Promise.all([redis.xInfoGroups(stream), redis.xPendingRange(stream, group, '-', mark, 1000)]);
  const found = groups.find((candidate) => candidate.name === group);
  if (!found) return { pending: -1, unread: true };
  return { pending: pending.length, unread: compareIds(found['last-delivered-id'], mark) < 0 };
}

function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt);
  const [bMs, bSeq] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

interface StoredTap {
  device_id: string;
  tap_id: string;
  copies: number;
  verdict: string;
  reason: string;
}

/** Every invariant, after the load has settled and the persister has drained. */
export async function checkInvariants(phase: string, databaseUrl: string, redis: RedisClient, passengers: Passengers, allRiders: readonly Rider[]): Promise<DrillCheck[]> {
  return withPostgres(databaseUrl, async (db) => {
    const checks: DrillCheck[] = [];
    const add = (name: string, expected: string, found: string, passed: boolean) => checks.push(drillCheck(phase, name, expected, found, passed));
    await checkTaps(db, passengers, add);
    await checkSingleTrips(db, passengers, add);
    await checkOrders(db, passengers, add);
    await checkTopUps(db, passengers, add);
    await checkLedger(db, passengers, add);
    await checkMirror(db, redis, allRiders, add);
    return checks;
  });
}

type Add = (name: string, expected: string, found: string, passed: boolean) => void;

async function checkTaps(db: Client, passengers: Passengers, add: Add): Promise<void> {
  const { book } = passengers;
  const { rows } = await db.query<StoredTap>(
    `SELECT device_id, tap_id, count(*)::int AS copies, min(verdict) AS verdict, min(reason) AS reason FROM taps GROUP BY device_id, tap_id`,
  );
  const stored = new Map(rows.map((row) => [TapBook.key(row.device_id, row.tap_id), row]));
  const accepted = [...book.seen.values()].filter((tap) => tap.verdict === 'accept');
  const missing: string[] = [];
  const twice: string[] = [];
  const otherVerdict: string[] = [];
  for (const tap of accepted) {
    const key = TapBook.key(tap.deviceId, tap.tapId);
    const row = stored.get(key);
    if (!row) missing.push(key);
    else if (row.copies !== 1) twice.push(`${key} ×${row.copies}`);
    else if (row.verdict !== 'accept') otherVerdict.push(`${key} stored ${row.verdict}/${row.reason}`);
  }
  const viaBatch = accepted.filter((tap) => tap.via === 'batch').length;
  add(
    'every tap the gates accepted is stored exactly once',
    `${accepted.length} accepted taps (${accepted.length - viaBatch} online, ${viaBatch} by offline upload), each in taps once as accepted`,
    `missing ${missing.length}, stored more than once ${twice.length}, stored with another verdict ${otherVerdict.length}${examples([...missing, ...twice, ...otherVerdict])}`,
    missing.length + twice.length + otherVerdict.length === 0,
  );

  const rejected = [...book.seen.values()].filter((tap) => tap.verdict === 'reject');
  const rejectedMissing = rejected.filter((tap) => stored.get(TapBook.key(tap.deviceId, tap.tapId))?.verdict !== 'reject').map((tap) => TapBook.key(tap.deviceId, tap.tapId));
  const noVerdict = [...book.sent.keys()].filter((key) => !book.seen.has(key));
  const unknown = rows.filter((row) => !book.seen.has(TapBook.key(row.device_id, row.tap_id))).map((row) => TapBook.key(row.device_id, row.tap_id));
  add(
    'every tap sent got a verdict, and taps holds exactly those',
    `${book.sent.size} taps sent, each with a verdict; ${rejected.length} refused ones stored as refused; nothing else stored`,
    `without a verdict ${noVerdict.length}, refused but not stored as refused ${rejectedMissing.length}, stored but never answered ${unknown.length}, verdicts changed on replay ${book.changedOnReplay.length}${examples([...noVerdict, ...rejectedMissing, ...unknown, ...book.changedOnReplay])}`,
    noVerdict.length + rejectedMissing.length + unknown.length + book.changedOnReplay.length === 0,
  );

  const {
    rows: [counts],
  } = await db.query<{ rows: number; keys: number; duplicates: number; journeys_twice: number }>(
    `SELECT (SELECT count(*) FROM taps)::int AS rows, (SELECT count(*) FROM tap_keys)::int AS keys,
            (SELECT count(*) FROM (SELECT 1 FROM taps GROUP BY device_id, tap_id HAVING count(*) > 1) d)::int AS duplicates,
            (SELECT count(*) FROM (SELECT 1 FROM journeys GROUP BY id HAVING count(*) > 1) j)::int AS journeys_twice`,
  );
  add(
    'no tap (and no journey) is stored twice',
    'each (device_id, tap_id) once in taps and in tap_keys; each journey id once',
    `${counts.rows} tap rows, ${counts.keys} tap keys, ${counts.duplicates} taps stored more than once, ${counts.journeys_twice} journeys stored more than once`,
    counts.rows === counts.keys && counts.duplicates === 0 && counts.journeys_twice === 0,
  );
}

async function checkSingleTrips(db: Client, passengers: Passengers, add: Add): Promise<void> {
  const { rows } = await db.query<{ ticket_id: string; entries: number }>(
    `SELECT ticket_id, count(*)::int AS entries FROM taps
      WHERE subject_kind = 'single' AND direction = 'entry' AND verdict = 'accept' AND valid
      GROUP BY ticket_id HAVING count(*) > 1`,
  );
  const {
    rows: [totals],
  } = await db.query<{ used: number; refused_again: number }>(
    `SELECT count(DISTINCT ticket_id) FILTER (WHERE verdict = 'accept' AND valid)::int AS used,
            count(*) FILTER (WHERE reason IN ('ALREADY_USED', 'PASSBACK'))::int AS refused_again
       FROM taps WHERE subject_kind = 'single' AND direction = 'entry'`,
  );
  const doubles = passengers.doubleTapsBothAccepted;
  add(
    'no single-use ticket let anyone in twice',
    'at most one valid accepted entry per single trip in taps; no simultaneous double tap accepted at both gates',
    `${totals.used} single trips used, ${totals.refused_again} later entries refused (ALREADY_USED or PASSBACK); tickets with more than one valid entry ${rows.length}, double taps accepted at both gates ${doubles.length}${examples([
      ...rows.map((row) => `${row.ticket_id} ×${row.entries}`),
      ...doubles,
    ])}`,
    rows.length === 0 && doubles.length === 0,
  );
  const unknown = [...passengers.unknownTickets];
  add(
    'every ticket sold is known to the gates',
    'no tap of a ticket the drill bought refused as INVALID_QR',
    `${unknown.length} tickets refused as unknown${examples(unknown)}`,
    unknown.length === 0,
  );
}

async function checkOrders(db: Client, passengers: Passengers, add: Add): Promise<void> {
  const attempts = passengers.orders;
  const paid = attempts.filter((attempt) => attempt.outcome === 'paid');
  const pending = attempts.filter((attempt) => attempt.outcome === 'pending');
  const severalOrders = attempts.filter((attempt) => attempt.orderIds.size > 1).map((attempt) => `${attempt.key}: ${[...attempt.orderIds].join(', ')}`);
  const seenIds = paid.flatMap((attempt) => [...attempt.orderIds]);
  const {
    rows: [orders],
  } = await db.query<{ total: number; not_one_key: number; unknown_seen: number }>(
    `SELECT (SELECT count(*) FROM orders)::int AS total,
            (SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM idempotency_keys k
               WHERE k.account_id = o.account_id AND k.response_body->>'id' = o.id::text) <> 1)::int AS not_one_key,
            (SELECT count(*) FROM unnest($1::uuid[]) AS s(id) WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = s.id))::int AS unknown_seen`,
    [seenIds],
  );
  add(
    'each Idempotency-Key made one order, whatever the retries',
    `${paid.length} keys answered 201 (${passengers.tally.get('orders.retried after no answer or 5xx')} retries after no answer or a 5xx, ${
      passengers.tally.get('orders.sent again after success') + passengers.tally.get('orders.sent twice at once')
    } deliberate repeats): one order id per key, ${paid.length} orders in Postgres, each the answer of exactly one key`,
    `${orders.total} orders; keys answered with more than one order ${severalOrders.length}; orders not the answer of exactly one key ${orders.not_one_key}; order ids answered but not in Postgres ${orders.unknown_seen}; keys still without an answer ${pending.length}${examples(severalOrders)}`,
    severalOrders.length === 0 && orders.total === paid.length && orders.not_one_key === 0 && orders.unknown_seen === 0 && pending.length === 0,
  );

  const { rows: wrong } = await db.query<{ id: string; total: string; debits: number; moved: string }>(
    `SELECT o.id, o.total, count(DISTINCT t.id)::int AS debits, coalesce(sum(e.amount) FILTER (WHERE e.ledger_account_id = 'wallet:' || o.account_id), 0) AS moved
       FROM orders o
       LEFT JOIN ledger_transactions t ON t.kind = 'purchase' AND t.reference = o.id::text
       LEFT JOIN ledger_entries e ON e.transaction_id = t.id
      WHERE o.pay_with = 'wallet'
      GROUP BY o.id, o.total, o.status
     HAVING count(DISTINCT t.id) <> CASE WHEN o.status = 'paid' AND o.total > 0 THEN 1 ELSE 0 END
         OR coalesce(sum(e.amount) FILTER (WHERE e.ledger_account_id = 'wallet:' || o.account_id), 0) <> CASE WHEN o.status = 'paid' THEN -o.total ELSE 0 END`,
  );
  const {
    rows: [sums],
  } = await db.query<{ debits: string; totals: string; stray: number }>(
    `SELECT (SELECT coalesce(-sum(e.amount), 0) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
              WHERE t.kind = 'purchase' AND e.ledger_account_id LIKE 'wallet:%') AS debits,
            (SELECT coalesce(sum(total), 0) FROM orders WHERE pay_with = 'wallet' AND status = 'paid') AS totals,
            (SELECT count(*) FROM ledger_transactions t WHERE t.kind = 'purchase'
              AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id::text = t.reference))::int AS stray`,
  );
  add(
    'no order was charged twice',
    'each paid wallet order debited once, by its total; wallet purchase debits = paid order totals; no purchase without an order',
    `orders debited other than once by their total ${wrong.length}; wallet debits ${Number(sums.debits)} vs order totals ${Number(sums.totals)}; purchases without an order ${sums.stray}${examples(
      wrong.map((row) => `${row.id}: total ${row.total}, ${row.debits} debits moving ${row.moved}`),
    )}`,
    wrong.length === 0 && Number(sums.debits) === Number(sums.totals) && sums.stray === 0,
  );
}

async function checkTopUps(db: Client, passengers: Passengers, add: Add): Promise<void> {
  const completed = passengers.topUps.filter((attempt) => attempt.completed);
  const pending = passengers.topUps.filter((attempt) => !attempt.completed);
  const severalPayments = passengers.topUps.filter((attempt) => attempt.paymentIds.size > 1);
  const { rows: wrong } = await db.query<{ id: string; status: string; credits: number; credited: string; amount: string }>(
    `SELECT p.id, p.status, p.amount, count(DISTINCT t.id)::int AS credits,
            coalesce(sum(e.amount) FILTER (WHERE e.ledger_account_id = 'wallet:' || p.account_id), 0) AS credited
       FROM payments p
       LEFT JOIN ledger_transactions t ON t.kind = 'top_up' AND t.reference = p.id::text
       LEFT JOIN ledger_entries e ON e.transaction_id = t.id
      WHERE p.purpose = 'top_up'
      GROUP BY p.id
     HAVING count(DISTINCT t.id) <> CASE WHEN p.status = 'succeeded' THEN 1 ELSE 0 END
         OR coalesce(sum(e.amount) FILTER (WHERE e.ledger_account_id = 'wallet:' || p.account_id), 0) <> CASE WHEN p.status = 'succeeded' THEN p.amount ELSE 0 END`,
  );
  const completedIds = completed.flatMap((attempt) => [...attempt.paymentIds]);
  const {
    rows: [credited],
  } = await db.query<{ amount: string; payments: number }>(
    `SELECT coalesce(sum(amount), 0) AS amount, count(*)::int AS payments FROM payments WHERE id = ANY($1::uuid[]) AND status = 'succeeded'`,
    [completedIds],
  );
  const expected = completed.reduce((sum, attempt) => sum + attempt.amount, 0);
  add(
    'each top-up credited exactly once',
    `${completed.length} top-ups completed (webhook repeated ${passengers.tally.get('top-ups.webhook repeated')} times, twice at once ${passengers.tally.get('top-ups.webhook twice at once')} times), ${expected} đồng: each succeeded payment credited once, one payment per key`,
    `succeeded for ${credited.payments} of them, ${Number(credited.amount)} đồng; payments credited other than once ${wrong.length}; keys with more than one payment ${severalPayments.length}; top-ups still without an answer ${pending.length}${examples(
      wrong.map((row) => `${row.id} ${row.status}: ${row.credits} credits of ${row.credited}`),
    )}`,
    wrong.length === 0 && severalPayments.length === 0 && pending.length === 0 && credited.payments === completed.length && Number(credited.amount) === expected,
  );
}

async function checkLedger(db: Client, passengers: Passengers, add: Add): Promise<void> {
  const {
    rows: [ledger],
  } = await db.query<{ total: string; transactions: number; unbalanced: number; drifted: number; negative: number }>(
    `SELECT (SELECT coalesce(sum(amount), 0) FROM ledger_entries) AS total,
            (SELECT count(*) FROM ledger_transactions)::int AS transactions,
            (SELECT count(*) FROM (SELECT t.id FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.transaction_id = t.id
               GROUP BY t.id HAVING coalesce(sum(e.amount), 0) <> 0 OR count(e.id) < 2) u)::int AS unbalanced,
            (SELECT count(*) FROM ledger_accounts a WHERE a.kind = 'wallet'
               AND a.balance <> (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e WHERE e.ledger_account_id = a.id))::int AS drifted,
            (SELECT count(*) FROM ledger_accounts WHERE balance < 0)::int AS negative`,
  );
  add(
    'the ledger balances',
    'every ledger transaction has entries summing to 0; each wallet balance = the sum of its entries; no wallet below 0',
    `${ledger.transactions} transactions, entries sum to ${Number(ledger.total)}; unbalanced ${ledger.unbalanced}; wallets off their entries ${ledger.drifted}; wallets below 0 ${ledger.negative}`,
    Number(ledger.total) === 0 && ledger.unbalanced === 0 && ledger.drifted === 0 && ledger.negative === 0,
  );

  const { rows: fares } = await db.query<{ id: string; charge: string; unpaid: string; paid: string }>(
    `SELECT j.id, j.charge, j.unpaid, coalesce(f.paid, 0) AS paid
       FROM journeys j
       LEFT JOIN (SELECT t.reference, -sum(e.amount) AS paid FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
                   WHERE t.kind = 'fare' AND e.ledger_account_id LIKE 'wallet:%' GROUP BY t.reference) f ON f.reference = j.id::text
      WHERE j.subject_kind = 'payg' AND coalesce(f.paid, 0) + j.unpaid <> j.charge`,
  );
  const {
    rows: [payg],
  } = await db.query<{ journeys: number; charged: string; owed: string; stray: number }>(
    `SELECT count(*) FILTER (WHERE status <> 'open')::int AS journeys, coalesce(sum(charge), 0) AS charged, coalesce(sum(unpaid), 0) AS owed,
            (SELECT count(*) FROM ledger_transactions t WHERE t.kind = 'fare'
              AND NOT EXISTS (SELECT 1 FROM journeys j WHERE j.id::text = t.reference AND j.subject_kind = 'payg'))::int AS stray
       FROM journeys WHERE subject_kind = 'payg'`,
  );
  add(
    'each pay-as-you-go fare is paid or owed, once',
    'for every pay-as-you-go journey: fares taken from the wallet + unpaid (owed) = its charge; no fare without a journey',
    `${payg.journeys} journeys closed, ${Number(payg.charged)} đồng charged, ${Number(payg.owed)} owed; journeys where paid + owed ≠ charge ${fares.length}; fares without a journey ${payg.stray}${examples(
      fares.map((row) => `${row.id}: charge ${row.charge}, paid ${row.paid}, owed ${row.unpaid}`),
    )}`,
    fares.length === 0 && payg.stray === 0,
  );

  // The contract lets only offline taps take a rider below zero (batch: "the balance may go negative"); a tap
  // the validator gave up on counts as offline, whether the service applied it late or the upload brought it.
  const { rows: owing } = await db.query<{ account_id: string; owed: string }>(
    `SELECT j.account_id, sum(j.unpaid) AS owed FROM journeys j
      WHERE j.unpaid > 0 AND NOT EXISTS (SELECT 1 FROM taps t WHERE t.account_id = j.account_id AND t.offline)
      GROUP BY j.account_id`,
  );
  const unexplained = owing.filter((row) => !passengers.accountsWithUnansweredTaps.has(row.account_id));
  const {
    rows: [owed],
  } = await db.query<{ accounts: number }>(`SELECT count(DISTINCT account_id)::int AS accounts FROM journeys WHERE unpaid > 0`);
  add(
    'fares are owed (a balance below zero) only after offline taps',
    'every account owing a fare had taps uploaded offline, or taps its validator got no answer for',
    `${owed.accounts} accounts owe fares (${owing.length - unexplained.length} after taps answered too late, the rest after offline uploads); otherwise ${unexplained.length}${examples(
      unexplained.map((row) => `${row.account_id} owes ${row.owed}`),
    )}`,
    unexplained.length === 0,
  );
}

async function checkMirror(db: Client, redis: RedisClient, riders: readonly Rider[], add: Add): Promise<void> {
  const { rows } = await db.query<{ id: string; balance: string; owed: string }>(
    `SELECT a.id, coalesce(l.balance, 0) AS balance, coalesce(o.owed, 0) AS owed
       FROM unnest($1::uuid[]) AS a(id)
       LEFT JOIN ledger_accounts l ON l.owner_account_id = a.id
       LEFT JOIN (SELECT account_id, sum(unpaid) AS owed FROM journeys WHERE unpaid > 0 GROUP BY account_id) o ON o.account_id = a.id::text`,
    [riders.map((rider) => rider.id)],
  );
  const mirrors = await Promise.all(rows.map((row) => redis.hGet(gateKeys.wallet(row.id), 'balance')));
  const off: string[] = [];
  let below = 0;
  rows.forEach((row, index) => {
    const expected = Number(row.balance) - Number(row.owed);
    const mirror = mirrors[index];
    if (expected < 0) below++;
    if ((mirror === null ? 0 : Number(mirror)) !== expected) off.push(`${row.id}: mirror ${mirror ?? 'none'}, wallet ${row.balance} − owed ${row.owed}`);
  });
  add(
    "the gates' wallet mirror agrees with Postgres",
    `for each of ${rows.length} riders, the Redis balance = wallet balance − owed fares`,
    `${off.length} differ (${below} riders below zero)${examples(off)}`,
    off.length === 0,
  );
}

/** The state a replayed offline batch must leave alone: its taps, the riders' journeys, wallets and gate state. */
export async function offlineRidersState(databaseUrl: string, redis: RedisClient, deviceId: string, riders: readonly Rider[]): Promise<string> {
  const ids = riders.map((rider) => rider.id);
  const tickets = riders.flatMap((rider) => [...rider.singles, ...rider.usedSingles, ...rider.passes].map((ticket) => ticket.id));
  const stored = await withPostgres(databaseUrl, async (db) => ({
    taps: (
      await db.query(
        `SELECT tap_id, occurred_at, verdict, reason, valid, offline, journey_id, fare, charge FROM taps WHERE device_id = $1 ORDER BY tap_id`,
        [deviceId],
      )
    ).rows,
    journeys: (
      await db.query(
        `SELECT id, entered_at, status, exit_station_id, exited_at, fare, charge, unpaid FROM journeys WHERE account_id = ANY($1::text[]) ORDER BY id`,
        [ids],
      )
    ).rows,
    wallets: (
      await db.query(
        `SELECT l.id, l.balance, l.version, count(e.id)::int AS entries FROM ledger_accounts l LEFT JOIN ledger_entries e ON e.ledger_account_id = l.id
          WHERE l.owner_account_id = ANY($1::uuid[]) GROUP BY l.id ORDER BY l.id`,
        [ids],
      )
    ).rows,
  }));
  const gates = await Promise.all([
    ...ids.flatMap((id) => [redis.hGetAll(gateKeys.wallet(id)), redis.hGetAll(gateKeys.spend('payg', id)), redis.hGetAll(gateKeys.trip('payg', id))]),
    ...tickets.flatMap((id) => [redis.hGetAll(gateKeys.ticketState(id)), redis.hGetAll(gateKeys.trip('pass', id))]),
  ]);
  return JSON.stringify({ ...stored, gates });
}

function examples(items: readonly string[]): string {
  if (items.length === 0) return '';
  return ` (e.g. ${items.slice(0, EXAMPLES).join('; ')}${items.length > EXAMPLES ? '; …' : ''})`;
}
