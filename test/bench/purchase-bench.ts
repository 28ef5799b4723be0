/**
 * `npm run bench -- purchase`: the purchase path of the real service. Riders are registered, logged
 * in and funded through the API (the development payment gateway), then buy single trips and passes
 * from their wallets with POST /v1/orders and an Idempotency-Key, driven by the gate section's load
 * generator: the maximum orders/s (closed model, N in flight, median of rounds) and p50/p99 at a
 * fixed rate (open model). Afterwards a sample of orders is re-sent as retries, and every 201 is
 * checked against Postgres — each order there once, paid, with its tickets and one purchase in the
 * ledger, and no order without its 201 — the ledger must balance and the gates' wallet mirror must
 * equal Postgres, so the figures cannot count answers that wrote nothing or wrote twice.
 */
import 'reflect-metadata';
import { createClient } from 'redis';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { freePort } from '../../src/local-services/system';
import { HANOI_LINES } from '../../src/network/hanoi-network';
import { MAX_TOP_UP } from '../../src/payments/payments.dto';
import type { RedisClient } from '../../src/redis/redis.service';
import { loadConfig } from '../../src/config/config';
import { GateKeys } from '../../src/gate-state/gate-state';
import { median, ms, printTable, runSection, say, serviceEnv } from './harness';
import { fixedRate, maxThroughput, type RateResult, type Target } from './load';

const RIDERS = Number(process.env.BENCH_PURCHASE_RIDERS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_PURCHASE_CONCURRENCY ?? 16);
const RATE = Number(process.env.BENCH_PURCHASE_RATE ?? 100);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 15);
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REPLAYS = 200;
/** Each phase's request indices start at a multiple of this, so no two requests share an Idempotency-Key. */
const PHASE = 10_000_000;

interface Rider {
  accountId: string;
  bearer: string;
}

/** What an order request asked for and what its 201 said. */
interface Answer {
  index: number;
  status: number;
  /** The error code of a refusal. */
  code?: string;
  orderId?: string;
  total?: number;
  tickets?: number;
}

interface OrderItem {
  productId: string;
  quantity?: number;
  originStationId?: string;
  destinationStationId?: string;
}

const stationsOf = (lineId: string) => HANOI_LINES.find((line) => line.id === lineId)!.stations.map((station) => station.id);
const METRO = [stationsOf('metro-2a'), stationsOf('metro-3')];
const BUS_32 = stationsOf('bus-32');

/** Request i's order, always the same for the same i (a retry must repeat its body): mostly metro single trips, some bus trips and day passes. */
function orderItemOf(index: number): OrderItem {
  const kind = index % 20;
  if (kind < 14 || kind === 19) {
    const stations = METRO[index % 2];
    const origin = (index >> 1) % stations.length;
    const destination = (origin + 1 + ((index >> 3) % (stations.length - 1))) % stations.length;
    return { productId: 'metro-single', originStationId: stations[origin], destinationStationId: stations[destination], ...(kind === 19 && { quantity: 2 }) };
  }
  if (kind < 16) {
    const from = (index >> 1) % (BUS_32.length - 1);
    return { productId: 'bus-single', originStationId: BUS_32[from], destinationStationId: BUS_32[from + 1 + ((index >> 4) % (BUS_32.length - 1 - from))] };
  }
  return { productId: kind < 18 ? 'metro-day' : 'bus-metro-day' };
}

runSection('purchase', async (run) => {
  say('Starting throwaway Postgres and Redis…');
  const databases = await run.databases();
  const port = await freePort();
  // Access tokens that outlive the bench: riders log in once.
  const env = serviceEnv(databases, { AUTH_ACCESS_TOKEN_TTL_SECONDS: '3600' });
  say('Starting the service (node dist/main.js)…');
  await run.service(env, port);
  const api = apiOn(port);

  say(`Registering ${RIDERS} riders, logging them in and topping their wallets up by ${MAX_TOP_UP.toLocaleString('en')} đồng through the development gateway…`);
  const riders = await inParallel(RIDERS, 8, async (index): Promise<Rider> => {
    const email = `bench-rider-${index}@bench.lienthong.local`;
    const password = 'a purchase path rider';
    const account = await api.expect<{ id: string }>(201, 'POST', '/v1/auth/register', { email, password, fullName: `Bench rider ${inLetters(index)}` });
    const { accessToken } = await api.expect<{ accessToken: string }>(200, 'POST', '/v1/auth/login', { email, password });
    const bearer = `Bearer ${accessToken}`;
    const payment = await api.expect<{ id: string }>(201, 'POST', '/v1/wallet/top-ups', { amount: MAX_TOP_UP }, { authorization: bearer, 'idempotency-key': `top-up-${index}` });
    const completed = await api.expect<{ webhookStatus: number }>(200, 'POST', `/v1/payments/sandbox/${payment.id}/complete`, {});
    if (completed.webhookStatus !== 200) throw new Error(`top-up ${payment.id}: the webhook answered ${completed.webhookStatus}`);
    return { accountId: account.id, bearer };
  });

  const answers: Answer[] = [];
  const target: Target = {
    port,
    path: '/v1/orders',
    headers: {},
    okStatus: 201,
    body: (index) => JSON.stringify({ items: [orderItemOf(index)], payWith: 'wallet' }),
    headersOf: (index) => ({ authorization: riders[index % riders.length].bearer, 'idempotency-key': `order-${index}` }),
    onAnswer: (index, status, body) => answers.push(answerOf(index, status, body)),
  };
  // The closed model numbers its requests from 0: each phase moves them to its own range of keys.
  const phase = (number: number): Target => {
    const at = (index: number) => number * PHASE + index;
    return { ...target, body: (index) => target.body(at(index)), headersOf: (index) => target.headersOf!(at(index)), onAnswer: (index, status, body) => target.onAnswer!(at(index), status, body) };
  };

  say('Warming up…');
  await maxThroughput(phase(1), CONCURRENCY, 3);
  const rounds: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    say(`Maximum orders/s, round ${round} of ${ROUNDS} (${CONCURRENCY} in flight, ${MAX_SECONDS} s)…`);
    rounds.push(await maxThroughput(phase(1 + round), CONCURRENCY, MAX_SECONDS));
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  say(`${RATE} orders/s for ${RATE_SECONDS} s…`);
  const atRate = await fixedRate(target, RATE, RATE_SECONDS, (ROUNDS + 2) * PHASE);

  say(`Re-sending ${REPLAYS} orders as retries, and checking every order against Postgres and Redis…`);
  const replays = await replay(api, answers, target);
  const db = await new DataSource(dataSourceOptions({ database: { url: databases.postgres.url, poolSize: 1, migrateOnStart: false } })).initialize();
  const redis: RedisClient = createClient({ url: databases.redis.url });
  await redis.connect();
  try {
    const checks = [replays, ...(await verify(db, redis, answers, riders))];
    const failed = checks.filter((check) => !check.ok);
    if (failed.length) process.exitCode = 1;
    printTable('purchase', report(median(rounds), rounds, atRate, answers, checks));
  } finally {
    await redis.close();
    await db.destroy();
  }
});

/** 0 a, 1 b, … 26 ba: a person's name takes letters only. */
function inLetters(index: number): string {
  return [...index.toString(26)].map((digit) => String.fromCharCode(97 + parseInt(digit, 26))).join('');
}

function answerOf(index: number, status: number, body: string): Answer {
  if (status !== 201) {
    let code: string | undefined;
    try {
      code = (JSON.parse(body) as { error?: { code?: string } }).error?.code;
    } catch {
      code = undefined;
    }
    return { index, status, ...(code !== undefined && { code }) };
  }
  const order = JSON.parse(body) as { id: string; total: number; tickets: unknown[] };
  return { index, status, orderId: order.id, total: order.total, tickets: order.tickets.length };
}

interface Check {
  ok: boolean;
  line: string;
}

/** Retries of earlier orders, same key and body: each must answer 201 with the first order (verify then shows they wrote nothing). */
async function replay(api: Api, answers: readonly Answer[], target: Target): Promise<Check> {
  const paid = answers.filter((answer) => answer.status === 201);
  const sample = Array.from({ length: Math.min(REPLAYS, paid.length) }, (_, i) => paid[Math.floor((i * paid.length) / Math.min(REPLAYS, paid.length))]);
  const same = await inParallel(sample.length, 8, async (i) => {
    const { index, orderId } = sample[i];
    const again = await api.call<{ id?: string }>('POST', target.path, JSON.parse(target.body(index)) as object, target.headersOf!(index));
    return again.status === 201 && again.json.id === orderId;
  });
  const matched = same.filter(Boolean).length;
  return { ok: matched === sample.length, line: `retries: ${matched} of ${sample.length} re-sent orders answered 201 with their first order` };
}

async function verify(db: DataSource, redis: RedisClient, answers: readonly Answer[], riders: readonly Rider[]): Promise<Check[]> {
  const paid = answers.filter((answer) => answer.status === 201);
  const ids = paid.map((answer) => answer.orderId!);
  const checks: Check[] = [];
  const distinct = new Set(ids).size;
  checks.push({ ok: distinct === ids.length, line: `${ids.length.toLocaleString('en')} orders answered 201 under distinct keys, ${distinct.toLocaleString('en')} distinct order ids` });

  const rows = await db.query<Array<{ id: string; status: string; total: string; tickets: string; purchases: string; purchased: string | null }>>(
    `SELECT o.id, o.status, o.total,
            (SELECT count(*) FROM tickets t WHERE t.order_id = o.id) AS tickets,
            (SELECT count(*) FROM ledger_transactions l WHERE l.kind = 'purchase' AND l.reference = o.id::text) AS purchases,
            (SELECT sum(e.amount) FROM ledger_transactions l JOIN ledger_entries e ON e.transaction_id = l.id
              WHERE l.kind = 'purchase' AND l.reference = o.id::text AND e.ledger_account_id = 'system:ticket_sales') AS purchased
       FROM orders o WHERE o.id = ANY($1::uuid[])`,
    [ids],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  const wrong = paid.filter((answer) => {
    const row = byId.get(answer.orderId!);
    if (!row) return true;
    const total = Number(row.total);
    return row.status !== 'paid' || total !== answer.total || Number(row.tickets) !== answer.tickets || Number(row.purchases) !== (total > 0 ? 1 : 0) || Number(row.purchased ?? 0) !== total;
  });
  const [{ orders, keys }] = await db.query<Array<{ orders: string; keys: string }>>(
    `SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM idempotency_keys WHERE key LIKE 'order-%') AS keys`,
  );
  checks.push({
    ok: wrong.length === 0 && Number(orders) === ids.length && Number(keys) === ids.length,
    line:
      `Postgres: ${rows.length.toLocaleString('en')} of them found, ${wrong.length} missing or different (status, total, tickets, one purchase into ticket sales); ` +
      `${Number(orders).toLocaleString('en')} orders and ${Number(keys).toLocaleString('en')} order keys in all`,
  });

  const [ledger] = await db.query<Array<{ entries: string | null; transactions: string; unbalanced: string; drifted: string; sales: string | null; sold: string | null; wallets: string | null; funded: string | null }>>(`
    SELECT (SELECT sum(amount) FROM ledger_entries) AS entries,
           (SELECT count(*) FROM ledger_transactions) AS transactions,
           (SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0) t) AS unbalanced,
           (SELECT count(*) FROM ledger_accounts a
             WHERE a.kind = 'wallet' AND a.balance <> (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e WHERE e.ledger_account_id = a.id)) AS drifted,
           (SELECT sum(amount) FROM ledger_entries WHERE ledger_account_id = 'system:ticket_sales') AS sales,
           (SELECT sum(total) FROM orders WHERE status = 'paid') AS sold,
           (SELECT sum(balance) FROM ledger_accounts WHERE kind = 'wallet') AS wallets,
           (SELECT sum(amount) FROM payments WHERE purpose = 'top_up' AND status = 'succeeded') AS funded`);
  const [sales, sold, wallets, funded] = [ledger.sales, ledger.sold, ledger.wallets, ledger.funded].map((value) => Number(value ?? 0));
  checks.push({
    ok: Number(ledger.entries ?? 0) === 0 && Number(ledger.unbalanced) === 0 && Number(ledger.drifted) === 0 && sales === sold && wallets === funded - sold,
    line:
      `ledger: ${Number(ledger.transactions).toLocaleString('en')} transactions, ${ledger.unbalanced} unbalanced, entries sum to ${Number(ledger.entries ?? 0)}, ` +
      `${ledger.drifted} wallets off their entries; ticket sales ${sales.toLocaleString('en')} = paid orders ${sold.toLocaleString('en')}; ` +
      `wallets ${wallets.toLocaleString('en')} = top-ups ${funded.toLocaleString('en')} − orders`,
  });

  const balances = new Map(
    (await db.query<Array<{ owner: string; balance: string }>>(`SELECT owner_account_id AS owner, balance FROM ledger_accounts WHERE kind = 'wallet'`)).map((row) => [row.owner, Number(row.balance)]),
  );
  let mirrored = 0;
  const gateKeys = new GateKeys(loadConfig().gate);
  for (const rider of riders) if (Number(await redis.hGet(gateKeys.wallet(rider.accountId), 'balance')) === balances.get(rider.accountId)) mirrored++;
  checks.push({ ok: mirrored === riders.length, line: `gates' wallet mirror in Redis = Postgres for ${mirrored} of ${riders.length} riders` });
  return checks;
}

function report(maxPerSecond: number, rounds: number[], atRate: RateResult, answers: readonly Answer[], checks: readonly Check[]): string {
  const refusals = new Map<string, number>();
  for (const answer of answers) {
    if (answer.status === 201) continue;
    const what = `${answer.status || 'no answer'}${answer.code ? ` ${answer.code}` : ''}`;
    refusals.set(what, (refusals.get(what) ?? 0) + 1);
  }
  const verified = checks.every((check) => check.ok);
  return [
    '',
    `${''.padEnd(22)}${'max orders/s'.padStart(16)}${`p50@${RATE}/s`.padStart(12)}${`p99@${RATE}/s`.padStart(12)}${'max'.padStart(12)}${'failed'.padStart(9)}`,
    `${'orders from the wallet'.padEnd(22)}${`${Math.round(maxPerSecond).toLocaleString('en')}/s`.padStart(16)}${ms(atRate.p50).padStart(12)}${ms(atRate.p99).padStart(12)}${ms(atRate.max).padStart(12)}${String(atRate.failed).padStart(9)}`,
    `rounds (max orders/s, ${CONCURRENCY} in flight, ${RIDERS} riders): ${rounds.map(Math.round).join(', ')}`,
    `not 201: ${refusals.size ? [...refusals].map(([what, count]) => `${what} ×${count}`).join(', ') : 'none'}`,
    '',
    ...checks.map((check) => `${check.ok ? 'ok  ' : 'FAIL'} ${check.line}`),
    verified ? 'every 201 checked: the figures count real orders' : 'NOT VERIFIED: the figures above cannot be trusted',
    '',
  ].join('\n');
}

interface Api {
  call<T>(method: string, path: string, body?: object, headers?: Record<string, string>): Promise<{ status: number; json: T }>;
  expect<T>(status: number, method: string, path: string, body?: object, headers?: Record<string, string>): Promise<T>;
}

function apiOn(port: number): Api {
  const call = async <T>(method: string, path: string, body?: object, headers: Record<string, string> = {}) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { ...headers, ...(body && { 'content-type': 'application/json' }) },
      ...(body && { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as T };
  };
  return {
    call,
    expect: async <T>(status: number, method: string, path: string, body?: object, headers?: Record<string, string>) => {
      const answer = await call<T>(method, path, body, headers);
      if (answer.status !== status) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.json)}`);
      return answer.json;
    },
  };
}

/** work(0) … work(count − 1), at most `limit` at a time, results in order. */
async function inParallel<T>(count: number, limit: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await work(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}
