/**
 * `npm run bench -- gate`: the gate path of the real service against a bare floor server doing the
 * same work (ES256 check, the gate Lua script), driven by the same load generator on this machine.
 * Starts throwaway Postgres and Redis, seeds them, and prints for each server the maximum
 * throughput and the p50/p99 latency at a fixed 1,000 validations/s, and the ratio service/floor;
 * the service is also run with 2 workers (BENCH_WORKERS) on the same Postgres and Redis, and alone on a
 * 3-master Redis Cluster (BENCH_REDIS_CLUSTER=false leaves it out), in the same alternating rounds, for
 * the ratios of workers to one process and of the cluster to one Redis.
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { upsertDevice } from '../../src/devices/device-seeder';
import { freePort } from '../../src/local-services/system';
import { LuaScript } from '../../src/redis/lua-script';
import { RedisService, type RedisClient } from '../../src/redis/redis.service';
import { QrTokens } from '../../src/tickets/qr-tokens';
import { stateArguments } from '../../src/gate-state/ticket-state.store';
import { GateKeys } from '../../src/gate-state/gate-state';
import { RedisClusterServers } from '../support/redis-cluster';
import { median, ms, printTable, REPOSITORY, runSection, say, serviceEnv } from './harness';
import { fixedRate, maxThroughput, type RateResult, type Target } from './load';
import { mediumCostLines, mediumCosts, type MediumCosts } from './medium-costs';
import { qrCheckCostLines, qrCheckCosts, type QrCheckCosts } from './qr-check-costs';

const TICKETS_PER_SERVER = Number(process.env.BENCH_TICKETS ?? 20_000);
const RATE = 1_000;
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 15);
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DAY = 24 * 3600 * 1000;
const FLOOR_STREAM = 'bench:floor-taps';
/** The service again with this many workers (BENCH_WORKERS), on the same Postgres and Redis, in the same rounds. */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
/** The service again (one process) on a 3-master Redis Cluster of loopback nodes, in the same rounds. */
const CLUSTER = process.env.BENCH_REDIS_CLUSTER !== 'false';

type Server = 'service' | 'workers' | 'cluster' | 'floor';

interface Figures {
  maxPerSecond: number;
  rounds: number[];
  atRate: RateResult;
  /** CPU time of the process (all threads) and of its main thread per validation, in µs, at maximum throughput. */
  cpu: { process: number[]; main: number[] };
}

runSection('gate', async (run) => {
  say('Starting throwaway Postgres and Redis…');
  const databases = await run.databases();
  const [servicePort, workersPort, clusterPort, floorPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env = serviceEnv(databases);
  const config = loadConfig(env);
  let cluster: { url: string; redis: RedisService } | undefined;
  if (CLUSTER) {
    say('Starting a 3-master Redis Cluster (AOF, fsync every second, as each master should run)…');
    const servers = await RedisClusterServers.start(join(run.dir, 'redis-cluster'));
    run.defer(() => servers.stop());
    const redis = new RedisService(loadConfig({ ...env, REDIS_URL: servers.url }));
    await redis.onModuleInit();
    run.defer(() => redis.onModuleDestroy());
    cluster = { url: servers.url, redis };
  }

  say('Checking static and dynamic QR codes in this process…');
  const qrCosts = qrCheckCosts(config);

  say(`Issuing ${(CLUSTER ? 4 : 3) * TICKETS_PER_SERVER} passes into Redis${CLUSTER ? ' and the cluster' : ''} and signing their QR codes…`);
  const tokens = new QrTokens(config);
  const client: RedisClient = createClient({ url: databases.redis.url });
  await client.connect();
  say('Resolving transit cards and chip ID cards through medium.lua…');
  const mediaCosts = await mediumCosts(config, client);
  const writeState = LuaScript.fromFile(join(REPOSITORY, 'src', 'gate-state', 'write-ticket-state.lua'));
  const now = Date.now();
  const qrOf = async (on: RedisClient = client): Promise<string> => {
    const ticketId = randomUUID();
    const validity = { validFrom: new Date(now - DAY), validUntil: new Date(now + 2 * DAY), validityDays: null, firstUseBy: null };
    await writeState.run(
      on,
      [new GateKeys(config.gate).ticketState(ticketId)],
      stateArguments({
        ticketId, version: 1, status: 'active', kind: 'pass', accountId: randomUUID(), riderCategory: 'adult', modes: ['metro'], lineIds: null,
        originStationId: null, destinationStationId: null, activation: 'fixed', firstUsedAt: null, ...validity,
      }),
    );
    return tokens.forTicket({ ticketId, kind: 'pass', riderCategory: 'adult', modes: ['metro'], lineIds: null, originStationId: null, destinationStationId: null, ...validity }, new Date());
  };
  const qrCodes = { service: [] as string[], workers: [] as string[], cluster: [] as string[], floor: [] as string[] };
  for (let index = 0; index < TICKETS_PER_SERVER; index++) {
    qrCodes.service.push(await qrOf());
    qrCodes.floor.push(await qrOf());
  }
  for (let index = 0; index < TICKETS_PER_SERVER; index++) qrCodes.workers.push(await qrOf());
  if (cluster) for (let index = 0; index < TICKETS_PER_SERVER; index++) qrCodes.cluster.push(await qrOf(cluster.redis.client));

  const db = await new DataSource(dataSourceOptions({ database: { url: databases.postgres.url, poolSize: 1, migrateOnStart: false } })).initialize();
  const deviceSecret = randomBytes(32).toString('base64url');
  await upsertDevice(db, { deviceId: 'bench-gate', secret: deviceSecret, operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-cat-linh', kind: 'gate' });
  await db.destroy();

  say(`Starting the service (node dist/main.js) alone, again with WORKERS=${WORKERS} on the same Postgres and Redis,${cluster ? ' again alone on the cluster,' : ''} and the floor server…`);
  const service = await run.service(env, servicePort);
  const workers = await run.service({ ...env, WORKERS: String(WORKERS) }, workersPort);
  const onCluster = cluster ? await run.service({ ...env, REDIS_URL: cluster.url }, clusterPort) : undefined;
  const token = await deviceToken(servicePort, deviceSecret);
  // The floor appends to a stream of its own that nothing reads: the service's persister must not work for it.
  const floor = run.own(fork(join(__dirname, 'floor-server.js'), [String(floorPort)], { env: { ...env, GATE_TAP_STREAM: FLOOR_STREAM }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
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
  const workersTarget = targetOf(workersPort, { authorization: `Bearer ${token}` }, qrCodes.workers, 'workers');
  const clusterTarget = targetOf(clusterPort, { authorization: `Bearer ${token}` }, qrCodes.cluster, 'cluster');
  const targets: Array<[Server, Target]> = [['service', serviceTarget], ['workers', workersTarget], ...(cluster ? [['cluster', clusterTarget] as [Server, Target]] : []), ['floor', floorTarget]];

  // The servers share this machine with the load generator: rounds alternate between them so that a
  // busy moment does not favour one, and each server's figure is its median round.
  for (const [name, target] of targets) {
    say(`${name}: warming up…`);
    await maxThroughput({ ...target, body: (index) => target.body(5_000_000 + index) }, CONCURRENCY, 3);
  }
  const rounds: Record<Server, number[]> = { service: [], workers: [], cluster: [], floor: [] };
  const noCpu = () => ({ process: [] as number[], main: [] as number[] });
  const cpu = { service: noCpu(), workers: noCpu(), cluster: noCpu(), floor: noCpu() };
  const pids: Record<Server, number> = { service: service.pid!, workers: workers.pid!, cluster: onCluster?.pid ?? 0, floor: floor.pid! };
  let next: Record<Server, number> = { service: 0, workers: 0, cluster: 0, floor: 0 };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, target] of targets) {
      say(`${name}: maximum throughput, round ${round} of ${ROUNDS} (${CONCURRENCY} in flight, ${MAX_SECONDS} s)…`);
      const first = next[name];
      const before = cpuTime(pids[name]);
      const perSecond = await maxThroughput({ ...target, body: (index) => target.body(first + index) }, CONCURRENCY, MAX_SECONDS);
      const after = cpuTime(pids[name]);
      const validations = perSecond * MAX_SECONDS;
      cpu[name].process.push((1000 * (after.process - before.process)) / validations);
      cpu[name].main.push((1000 * (after.main - before.main)) / validations);
      next = { ...next, [name]: first + Math.ceil(perSecond * MAX_SECONDS) + CONCURRENCY };
      rounds[name].push(perSecond);
    }
  }
  // Latency at a steady 1,000/s, so not while the persister still writes the rounds' taps.
  say(`Waiting for the service's persister to write the ${Math.round(next.service).toLocaleString('en')} taps of the rounds…`);
  say(`  caught up in ${(await persisterCaughtUp(client, new GateKeys(config.gate), config.gate.consumerGroup)).toFixed(1)} s`);
  if (cluster) say(`  on the cluster: caught up in ${(await persisterCaughtUp(cluster.redis.client, new GateKeys(config.gate), config.gate.consumerGroup)).toFixed(1)} s`);
  // Redis' own time per script call (the gate's and the floor's), for its limit in taps/s on one core.
  const scripts = /cmdstat_evalsha:calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(await client.info('commandstats'));
  const redisPerCall = scripts ? Number(scripts[3]) : NaN;
  say(`  Redis: ${scripts ? `${Number(scripts[1]).toLocaleString('en')} script calls, ${redisPerCall} µs each` : 'no script calls counted'}`);
  await client.close();
  const atRate: Partial<Record<Server, RateResult>> = {};
  for (const [name, target] of targets) {
    say(`${name}: ${RATE}/s for ${RATE_SECONDS} s…`);
    atRate[name] = await fixedRate(target, RATE, RATE_SECONDS, next[name]);
  }
  const serviceFigures: Figures = { maxPerSecond: median(rounds.service), rounds: rounds.service, atRate: atRate.service!, cpu: cpu.service };
  const floorFigures: Figures = { maxPerSecond: median(rounds.floor), rounds: rounds.floor, atRate: atRate.floor!, cpu: cpu.floor };
  const workersFigures: Figures = { maxPerSecond: median(rounds.workers), rounds: rounds.workers, atRate: atRate.workers!, cpu: cpu.workers };
  const clusterFigures: Figures | undefined = cluster ? { maxPerSecond: median(rounds.cluster), rounds: rounds.cluster, atRate: atRate.cluster!, cpu: cpu.cluster } : undefined;
  printTable('gate', report(serviceFigures, floorFigures, workersFigures, clusterFigures, qrCosts, redisPerCall, mediaCosts));
});

function report(service: Figures, floor: Figures, workers: Figures, cluster: Figures | undefined, qrCosts: QrCheckCosts, redisPerCall: number, mediaCosts: MediumCosts): string {
  const ratio = service.maxPerSecond / floor.maxPerSecond;
  const row = (name: string, figures: Figures) =>
    `${name.padEnd(22)}${`${Math.round(figures.maxPerSecond).toLocaleString('en')}/s`.padStart(16)}${ms(figures.atRate.p50).padStart(12)}${ms(figures.atRate.p99).padStart(12)}${ms(figures.atRate.max).padStart(12)}${String(figures.atRate.failed).padStart(9)}`;
  return [
    '',
    `${''.padEnd(22)}${'max throughput'.padStart(16)}${`p50@${RATE}/s`.padStart(12)}${`p99@${RATE}/s`.padStart(12)}${'max'.padStart(12)}${'failed'.padStart(9)}`,
    row('service (Nest+Fastify)', service),
    row('floor (node:http)', floor),
    row(`service, ${WORKERS} workers`, workers),
    ...(cluster ? [row('service, Redis Cluster', cluster)] : []),
    `rounds (max throughput): service ${service.rounds.map(Math.round).join(', ')}; floor ${floor.rounds.map(Math.round).join(', ')}; ${WORKERS} workers ${workers.rounds.map(Math.round).join(', ')}` +
      (cluster ? `; Redis Cluster ${cluster.rounds.map(Math.round).join(', ')}` : ''),
    `CPU per validation (median of rounds; the service's persister thread included in the first figure): service ${Math.round(median(service.cpu.process))} µs, main thread ${Math.round(median(service.cpu.main))} µs; floor ${Math.round(median(floor.cpu.process))} µs; ` +
      `${WORKERS} workers ${Math.round(median(workers.cpu.process))} µs (primary and workers), main threads ${Math.round(median(workers.cpu.main))} µs`,
    '',
    `ratio service/floor (max throughput): ${ratio.toFixed(2)}   target ≥ 0.70: ${ratio >= 0.7 ? 'met' : 'SHORT'}`,
    `ratio ${WORKERS} workers / 1 (max throughput, same run): ${(workers.maxPerSecond / service.maxPerSecond).toFixed(2)} on ${availableParallelism()} cores shared with the load generator, Postgres and Redis`,
    ...(cluster
      ? [`ratio Redis Cluster (3 masters on this machine) / one Redis, one process each (max throughput, same run): ${(cluster.maxPerSecond / service.maxPerSecond).toFixed(2)}; a tap costs two round trips on a cluster (the device's tap-id claim, then gate.lua)`]
      : []),
    `Redis time per script call (INFO commandstats, EVALSHA: the passes' state writes and the taps together): ${redisPerCall} µs, so one Redis core runs at most about ${Math.round(1e6 / redisPerCall).toLocaleString('en')} calls/s`,
    `service p99 at ${RATE}/s: ${ms(service.atRate.p99)}   target ≤ 10 ms: ${service.atRate.p99 <= 10 ? 'met' : 'SHORT'}`,
    '',
    ...qrCheckCostLines(qrCosts),
    ...mediumCostLines(mediaCosts),
    '',
  ].join('\n');
}

/** Seconds until the consumer group has read and acknowledged every entry of the stream. */
async function persisterCaughtUp(client: RedisClient, keys: GateKeys, group: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    // Every shard's stream that a tap reached (a shard no tap reached has no stream).
    let behind = false;
    for (const shard of keys.allShards()) {
      const stream = keys.tapStream(shard);
      if (!(await client.exists(stream))) continue;
      const found = (await client.xInfoGroups(stream)).find((candidate) => candidate.name === group);
      if (!found || found.pending !== 0 || found.lag !== 0) behind = true;
    }
    if (!behind) return (Date.now() - started) / 1000;
    if (Date.now() - started > 300_000) throw new Error('the persister did not catch up in 5 minutes');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * CPU milliseconds the process and its main thread have used (Linux /proc; clock ticks are 10 ms);
 * with its child processes (a cluster's workers: their main threads count as main) added.
 */
function cpuTime(pid: number): { process: number; main: number } {
  const ticks = (file: string) => {
    const fields = readFileSync(file, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  const own = { process: ticks(`/proc/${pid}/stat`), main: ticks(`/proc/${pid}/task/${pid}/stat`) };
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.map(cpuTime).reduce((sum, child) => ({ process: sum.process + child.process, main: sum.main + child.main }), own);
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
