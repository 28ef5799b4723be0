/**
 * `npm run bench`: the gate path of the real service against a bare floor server doing the same
 * work (ES256 check, the gate Lua script), driven by the same load generator on this machine.
 * Starts throwaway Postgres and Redis, seeds them, and prints for each server the maximum
 * throughput and the p50/p99 latency at a fixed 1,000 validations/s, and the ratio service/floor.
 */
import 'reflect-metadata';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { DataSource } from 'typeorm';
import { migrateAndMaybeSeed } from '../../src/cli/migrate';
import { loadConfig } from '../../src/config/config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { upsertDevice } from '../../src/devices/device-seeder';
import { startPostgres, startRedis, type RunningServer } from '../../src/local-services/servers';
import { freePort } from '../../src/local-services/system';
import { LuaScript } from '../../src/redis/lua-script';
import type { RedisClient } from '../../src/redis/redis.service';
import { QrTokens } from '../../src/tickets/qr-tokens';
import { ticketStateKey } from '../../src/tickets/ticket-state.store';
import { fixedRate, maxThroughput, type RateResult, type Target } from './load';

const REPOSITORY = join(__dirname, '..', '..', '..', '..');
const TICKETS_PER_SERVER = 20_000;
const RATE = 1_000;
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 15);
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DAY = 24 * 3600 * 1000;

interface Figures {
  maxPerSecond: number;
  rounds: number[];
  atRate: RateResult;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lien-thong-bench-'));
  chmodSync(dir, 0o755);
  const servers: RunningServer[] = [];
  const children: ChildProcess[] = [];
  try {
    say('Starting throwaway Postgres and Redis…');
    const [pgPort, redisPort, servicePort, floorPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const postgres = await startPostgres({ dataDir: join(dir, 'postgres'), port: pgPort, user: 'bench', password: randomBytes(9).toString('hex'), database: 'lienthong_bench', ephemeral: true });
    servers.push(postgres);
    const redis = await startRedis({ dataDir: join(dir, 'redis'), port: redisPort, ephemeral: true });
    servers.push(redis);
    await migrateAndMaybeSeed(postgres.url, true, () => undefined);

    const qrKeys = `bench:${generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`;
    const env = {
      ...process.env,
      NODE_ENV: 'development',
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      QR_SIGNING_KEYS: qrKeys,
      GATE_REBUILD_ON_EMPTY_REDIS: 'false',
      DOCS_ENABLED: 'false',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    };
    const config = loadConfig(env);

    say(`Issuing ${2 * TICKETS_PER_SERVER} passes into Redis and signing their QR codes…`);
    const tokens = new QrTokens(config);
    const client: RedisClient = createClient({ url: redis.url });
    await client.connect();
    const writeState = LuaScript.fromFile(join(REPOSITORY, 'src', 'tickets', 'write-ticket-state.lua'));
    const now = Date.now();
    const qrOf = async (): Promise<string> => {
      const ticketId = randomUUID();
      await writeState.run(client, [ticketStateKey(ticketId)], [
        '1', String(now + 10 * DAY), '',
        'status', 'active', 'kind', 'pass', 'account', randomUUID(), 'riderCategory', 'adult', 'modes', 'metro', 'lineIds', '',
        'origin', '', 'destination', '', 'activation', 'fixed', 'validFrom', String(now - DAY), 'validUntil', String(now + 2 * DAY),
        'validityDays', '', 'firstUseBy', '',
      ]);
      const validity = { validFrom: new Date(now - DAY), validUntil: new Date(now + 2 * DAY), validityDays: null, firstUseBy: null };
      return tokens.forTicket({ ticketId, kind: 'pass', riderCategory: 'adult', modes: ['metro'], lineIds: null, originStationId: null, destinationStationId: null, ...validity }, new Date());
    };
    const qrCodes = { service: [] as string[], floor: [] as string[] };
    for (let index = 0; index < TICKETS_PER_SERVER; index++) {
      qrCodes.service.push(await qrOf());
      qrCodes.floor.push(await qrOf());
    }
    await client.close();

    const db = await new DataSource(dataSourceOptions({ database: { url: postgres.url, poolSize: 1, migrateOnStart: false } })).initialize();
    const deviceSecret = randomBytes(32).toString('base64url');
    await upsertDevice(db, { deviceId: 'bench-gate', secret: deviceSecret, operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-cat-linh', kind: 'gate' });
    await db.destroy();

    say('Starting the service (node dist/main.js) and the floor server…');
    const service = spawn(process.execPath, [join(REPOSITORY, 'dist', 'main.js')], { env: { ...env, PORT: String(servicePort), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(service);
    await waitForHttp(servicePort, '/health/ready');
    const token = await deviceToken(servicePort, deviceSecret);
    const floor = fork(join(__dirname, 'floor-server.js'), [String(floorPort)], { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    children.push(floor);
    await new Promise<void>((resolve, reject) => {
      floor.once('message', () => resolve());
      floor.once('exit', (code) => reject(new Error(`the floor server exited with ${code}`)));
    });

    const targetOf = (port: number, headers: Record<string, string>, codes: string[], label: string): Target => ({
      port,
      path: '/v1/validations',
      headers,
      body: (index) =>
        JSON.stringify({ tapId: `${label}-${index}`, qr: codes[index % codes.length], direction: Math.floor(index / codes.length) % 2 === 0 ? 'entry' : 'exit' }),
    });
    const serviceTarget = targetOf(servicePort, { authorization: `Bearer ${token}` }, qrCodes.service, 'service');
    const floorTarget = targetOf(floorPort, {}, qrCodes.floor, 'floor');

    // Both servers share this machine with the load generator: rounds alternate between them so that a
    // busy moment does not favour one, and each server's figure is its median round.
    for (const [name, target] of [['service', serviceTarget], ['floor', floorTarget]] as const) {
      say(`${name}: warming up…`);
      await maxThroughput({ ...target, body: (index) => target.body(5_000_000 + index) }, CONCURRENCY, 3);
    }
    const rounds = { service: [] as number[], floor: [] as number[] };
    let next = { service: 0, floor: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, target] of [['service', serviceTarget], ['floor', floorTarget]] as const) {
        say(`${name}: maximum throughput, round ${round} of ${ROUNDS} (${CONCURRENCY} in flight, ${MAX_SECONDS} s)…`);
        const first = next[name];
        const perSecond = await maxThroughput({ ...target, body: (index) => target.body(first + index) }, CONCURRENCY, MAX_SECONDS);
        next = { ...next, [name]: first + Math.ceil(perSecond * MAX_SECONDS) + CONCURRENCY };
        rounds[name].push(perSecond);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const atRate = { service: undefined as RateResult | undefined, floor: undefined as RateResult | undefined };
    for (const [name, target] of [['service', serviceTarget], ['floor', floorTarget]] as const) {
      say(`${name}: ${RATE}/s for ${RATE_SECONDS} s…`);
      atRate[name] = await fixedRate(target, RATE, RATE_SECONDS, next[name]);
    }
    const serviceFigures: Figures = { maxPerSecond: median(rounds.service), rounds: rounds.service, atRate: atRate.service! };
    const floorFigures: Figures = { maxPerSecond: median(rounds.floor), rounds: rounds.floor, atRate: atRate.floor! };
    report(serviceFigures, floorFigures);
  } finally {
    const exits = children.filter((child) => child.exitCode === null).map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(exits);
    for (const server of servers.reverse()) await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(service: Figures, floor: Figures): void {
  const ratio = service.maxPerSecond / floor.maxPerSecond;
  const row = (name: string, figures: Figures) =>
    `${name.padEnd(22)}${`${Math.round(figures.maxPerSecond).toLocaleString('en')}/s`.padStart(16)}${ms(figures.atRate.p50).padStart(12)}${ms(figures.atRate.p99).padStart(12)}${ms(figures.atRate.max).padStart(12)}${String(figures.atRate.failed).padStart(9)}`;
  process.stdout.write(
    [
      '',
      `${''.padEnd(22)}${'max throughput'.padStart(16)}${`p50@${RATE}/s`.padStart(12)}${`p99@${RATE}/s`.padStart(12)}${'max'.padStart(12)}${'failed'.padStart(9)}`,
      row('service (Nest+Fastify)', service),
      row('floor (node:http)', floor),
      `rounds (max throughput): service ${service.rounds.map(Math.round).join(', ')}; floor ${floor.rounds.map(Math.round).join(', ')}`,
      '',
      `ratio service/floor (max throughput): ${ratio.toFixed(2)}   target ≥ 0.70: ${ratio >= 0.7 ? 'met' : 'SHORT'}`,
      `service p99 at ${RATE}/s: ${ms(service.atRate.p99)}   target ≤ 10 ms: ${service.atRate.p99 <= 10 ? 'met' : 'SHORT'}`,
      '',
    ].join('\n'),
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function waitForHttp(port: number, path: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${port}${path}`).then((response) => response.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the service did not become ready on port ${port}`);
}

async function deviceToken(port: number, secret: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/devices/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ deviceId: 'bench-gate', secret }),
  });
  if (!response.ok) throw new Error(`device token: ${response.status}`);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
