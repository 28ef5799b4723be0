/**
 * The fault drill (issue 8): load on a live service (the built service in its own process, on its own
 * throwaway Postgres and Redis) while Redis restarts, Postgres stops for a while, the service is
 * killed with SIGKILL, and a validator uploads a batch of offline taps twice. After each fault it
 * checks from Postgres that every accepted tap is stored once, no single trip let anyone in twice,
 * no order was charged twice and the ledger balances; it prints what it did and what it found.
 *
 * `runFaultDrill` is the library (test/integration/fault-drill.spec.ts runs it reduced); run this
 * file directly for the full size: `node dist/drills/test/drills/fault-drill.js [--reduced] [--copies]
 * [--riders N] [--rate N] [--outage SECONDS] [--redis-down SECONDS]`. With `--copies`, two copies of
 * the service share the load and the one leading the singleton jobs is killed (killLeadingCopy).
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createClient } from 'redis';
import { DataSource } from 'typeorm';
import { upsertAccount } from '../../src/accounts/account-seeder';
import { migrateAndMaybeSeed } from '../../src/cli/migrate';
import { loadConfig } from '../../src/config/config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { GateKeys } from '../../src/gate-state/gate-state';
import { LEASE_LOCK_CLASS } from '../../src/database/singleton-lease';
import { startPostgres, startRedis, type PostgresOptions, type RedisOptions, type RunningServer } from '../../src/local-services/servers';
import { freePort } from '../../src/local-services/system';
import { buildService, startBuiltService, type BuiltService } from '../support/built-service';
import { checkInvariants, drillCheck, offlineRidersState, waitForDrain, type DrillCheck, type RedisClient } from './drill-checks';
import { Api, Passengers, TapBook, sleep, type Gate, type Line, type OfflineTap, type Rider, type Subject } from './drill-load';

export interface FaultDrillSize {
  /** Riders under load. */
  riders: number;
  /** Rider actions started per second (a ride is two taps; others buy, top up, or tap one ticket at two gates at once). */
  ratePerSecond: number;
  postgresOutageSeconds: number;
  /** How long Redis stays stopped before it starts again (a restart of a big data set takes a while). */
  redisDownSeconds: number;
  /** Seconds of load between faults. */
  loadSeconds: number;
  /** Gate stations per metro line (two gates each). */
  stationsPerLine: number;
  /** Riders whose taps make the offline batch that is uploaded twice. */
  offlineRiders: number;
}

export interface FaultDrillOptions extends FaultDrillSize {
  /**
   * Two copies of the service on two ports, the load shared between them; the copy leading the
   * singleton jobs is SIGKILLed under load, then an offline batch is uploaded twice (instead of the
   * Redis, Postgres and single-copy faults).
   */
  copies?: boolean;
  /** The running commentary, one line per action and check. */
  log: (line: string) => void;
  /** Aborts the drill (Ctrl-C); servers and the service are still stopped. */
  signal?: AbortSignal;
}

// Redis stays down longer than node-redis waits for a command (5 s), as a restart of a big data set does.
export const FULL_SIZE: FaultDrillSize = { riders: 200, ratePerSecond: 40, postgresOutageSeconds: 60, redisDownSeconds: 15, loadSeconds: 15, stationsPerLine: 6, offlineRiders: 20 };
export const REDUCED_SIZE: FaultDrillSize = { riders: 30, ratePerSecond: 8, postgresOutageSeconds: 5, redisDownSeconds: 7, loadSeconds: 4, stationsPerLine: 3, offlineRiders: 4 };

export interface DrillPhase {
  name: string;
  seconds: number;
  /** What the load did in this phase (taps, orders, top-ups by outcome). */
  figures: Record<string, number>;
}

export interface FaultDrillReport {
  passed: boolean;
  copies: boolean;
  size: FaultDrillSize;
  seconds: number;
  phases: DrillPhase[];
  checks: DrillCheck[];
  failed: DrillCheck[];
  /** What the load did over the whole drill. */
  totals: Record<string, number>;
  /** The service's warnings and errors, by level and message. */
  serviceLog: Record<string, number>;
}

/** Every shard's tap stream, as the service's default configuration names them. */
const DRILL_KEYS = new GateKeys(loadConfig({}).gate);
const STREAMS = DRILL_KEYS.allShards().map((shard) => DRILL_KEYS.tapStream(shard));
const GROUP = 'tap-persister';
const SETTLE_TIMEOUT_MS = 90_000;
const DRAIN_TIMEOUT_MS = 60_000;
const RIDER_TOP_UP = 300_000;
/** A probe rider's wallet: more than one long metro fare, less than two. */
const PROBE_TOP_UP = 20_000;
/** Every third rider starts with this and tops up little: wallets near empty while riding pay-as-you-go and buying. */
const SHORT_RIDER_TOP_UP = 40_000;
const SETUP_CONCURRENCY = 4;
/** Riders whose offline entries are older than the journey limit, for the sweeper to close after the leader's death. */
const OVERDUE_RIDERS = 2;
/** The sweeper runs every 15 s in the leading copy; a new leader takes over within LEADER_RETRY_SECONDS. */
const SWEEP_TIMEOUT_MS = 60_000;
/** Bank cards with a journey of yesterday for the charge job, per rider under load (at least 20); every fifth is declined. */
const CARDS_PER_RIDER = 0.5;
const MIN_CARDS = 20;

/** Runs the whole drill and returns what it found; never throws (an error mid-drill is a failed check). */
export async function runFaultDrill(options: FaultDrillOptions): Promise<FaultDrillReport> {
  return new FaultDrill(options).run();
}

class FaultDrill {
  private readonly started = Date.now();
  private readonly dir = mkdtempSync(join(tmpdir(), 'lien-thong-drill-'));
  private readonly checks: DrillCheck[] = [];
  private readonly phases: DrillPhase[] = [];
  private readonly serviceLog: Record<string, number> = {};
  private readonly size: FaultDrillSize;
  private postgres: RunningServer | undefined;
  private redis: RunningServer | undefined;
  /** The copies of the service (one unless `copies`), by slot; a killed copy's slot gets its replacement. */
  private services: BuiltService[] = [];
  private api!: Api;
  private client: RedisClient | undefined;
  private passengers: Passengers | undefined;
  private postgresOptions!: PostgresOptions;
  private redisOptions!: RedisOptions;
  private mainJs!: string;
  private servicePorts!: number[];
  private serviceEnv!: Record<string, string>;
  private databaseUrl!: string;
  private offlineRiders: Rider[] = [];
  private probeRiders: Rider[] = [];
  private overdueRiders: Rider[] = [];
  private overdueGate: Gate | undefined;
  private busValidator!: Gate;
  private busLine!: Line;
  private adminBearer!: string;
  private setupDoneAt = 0;
  private phaseStarted = Date.now();
  private phaseTally = new Map<string, number>();

  constructor(private readonly options: FaultDrillOptions) {
    this.size = {
      riders: options.riders,
      ratePerSecond: options.ratePerSecond,
      postgresOutageSeconds: options.postgresOutageSeconds,
      redisDownSeconds: options.redisDownSeconds,
      loadSeconds: options.loadSeconds,
      stationsPerLine: options.stationsPerLine,
      offlineRiders: options.offlineRiders,
    };
    chmodSync(this.dir, 0o755); // Postgres runs as an unprivileged user when we are root
  }

  async run(): Promise<FaultDrillReport> {
    try {
      await this.setUp();
      const passengers = this.passengers!;
      this.say('load', `${this.size.ratePerSecond} rider actions/s over ${this.size.riders} riders and ${this.gateCount()} gates, from now until the end`);
      passengers.start();
      this.beginPhase();
      await this.loadFor(this.size.loadSeconds);
      this.endPhase('warm-up');
      if (this.options.copies) {
        await this.killLeadingCopy();
      } else {
        await this.restartRedis();
        await this.stopPostgres();
        await this.killService();
      }
      await this.uploadOfflineBatchTwice();
      if (!this.options.copies) await this.killChargeJob();
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      this.record(drillCheck('drill', 'the drill ran to its end', 'no error', message, false));
    } finally {
      await this.tearDown();
    }
    const failed = this.checks.filter((check) => !check.passed);
    const report: FaultDrillReport = {
      passed: failed.length === 0,
      copies: this.options.copies ?? false,
      size: this.size,
      seconds: Math.round((Date.now() - this.started) / 100) / 10,
      phases: this.phases,
      checks: this.checks,
      failed,
      totals: this.passengers?.tally.all() ?? {},
      serviceLog: this.serviceLog,
    };
    this.say('summary', `load over the whole drill: ${figures(report.totals)}`);
    this.say('summary', `service log (warnings and errors): ${figures(this.serviceLog)}`);
    this.say('summary', `${report.passed ? 'PASS' : 'FAIL'}: ${this.checks.length - failed.length} of ${this.checks.length} checks passed in ${report.seconds} s`);
    for (const check of failed) this.say('summary', `FAILED ${check.phase}: ${check.name}; expected ${check.expected}; found ${check.found}`);
    return report;
  }

  // ---- set-up -----------------------------------------------------------------------------------

  private async setUp(): Promise<void> {
    this.say('setup', 'compiling the service with tsc');
    this.mainJs = buildService(join(this.dir, 'dist'));
    // Free now, and kept apart from each other: the servers take theirs only when they start.
    const copies = this.options.copies ? 2 : 1;
    const [postgresPort, redisPort, ...servicePorts] = await distinctFreePorts(2 + copies);
    this.servicePorts = servicePorts;
    this.postgresOptions = {
      dataDir: join(this.dir, 'postgres'),
      port: postgresPort,
      user: 'drill',
      password: randomBytes(12).toString('hex'),
      database: 'lienthong_drill',
      ephemeral: true,
    };
    // Not ephemeral: append-only file, fsync every second, as in production, so a restart keeps the data.
    this.redisOptions = { dataDir: join(this.dir, 'redis'), port: redisPort };
    this.postgres = await startPostgres(this.postgresOptions);
    this.redis = await startRedis(this.redisOptions);
    this.databaseUrl = this.postgres.url;
    await migrateAndMaybeSeed(this.databaseUrl, true, () => undefined);
    const admin = { email: 'drill-admin@drill.lienthong.local', password: `drill admin ${randomBytes(8).toString('hex')}` };
    const db = await new DataSource(dataSourceOptions({ database: { url: this.databaseUrl, poolSize: 1, migrateOnStart: false } })).initialize();
    try {
      await upsertAccount(db, { ...admin, fullName: 'Drill admin', role: 'admin' });
    } finally {
      await db.destroy();
    }
    this.say('setup', `Postgres on :${postgresPort} and Redis on :${redisPort} (append-only file, fsync every second) in ${this.dir}; migrated and seeded`);

    this.serviceEnv = {
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redis.url,
      QR_DEV_KEY_FILE: join(this.dir, 'qr-dev-signing-key.pem'),
      GATE_CLAIM_IDLE_SECONDS: '1',
      GATE_JOURNEY_LIMIT_MINUTES: '10',
      AUTH_ACCESS_TOKEN_TTL_SECONDS: '3600',
      LOGIN_ATTEMPTS_PER_ADDRESS: '100000',
      // Riders are registered from one address.
      REGISTRATIONS_PER_ADDRESS: '100000',
      DOCS_ENABLED: 'false',
      // A dead leader's singleton jobs move to another copy within a second or two.
      LEADER_RETRY_SECONDS: '1',
      // The charge job runs when the drill asks (fault 5), into the development acquirer's books and files here.
      ACQUIRER: 'dev',
      BANK_CARD_CHARGE_INTERVAL_SECONDS: '0',
      ACQUIRER_SETTLEMENT_DIR: join(this.dir, 'acquirer'),
    };
    for (let slot = 0; slot < copies; slot++) await this.startService('setup', slot);
    this.client = createClient({ url: this.redis.url, socket: { reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1_000) } });
    this.client.on('error', () => undefined);
    await this.client.connect();

    const api = new Api(this.services.map((service) => service.base), 10_000);
    this.api = api;
    const adminBearer = `Bearer ${(await api.expect<{ accessToken: string }>(200, 'POST', '/v1/auth/login', { body: admin })).accessToken}`;
    this.adminBearer = adminBearer;
    const lines = new Map<string, Line>();
    const gates = new Map<string, Gate[]>();
    for (const lineId of ['metro-2a', 'metro-3']) {
      const line = await api.expect<{ stations: Array<{ id: string }> }>(200, 'GET', `/v1/lines/${lineId}`);
      // Not the first station: Cát Linh alone lies in the Ring Road 1 free zone.
      const stations = spread(line.stations.slice(1).map((station) => station.id), this.size.stationsPerLine);
      lines.set(lineId, { id: lineId, stations });
      const lineGates: Gate[] = [];
      for (const stationId of stations) {
        for (const side of ['a', 'b']) lineGates.push(await this.registerValidator(api, adminBearer, { operatorId: 'hmc', lineId, stationId, kind: 'gate' }, `${stationId}-${side}`));
      }
      gates.set(lineId, lineGates);
    }
    const bus = await api.expect<{ stations: Array<{ id: string }> }>(200, 'GET', '/v1/lines/bus-32');
    this.busLine = { id: 'bus-32', stations: bus.stations.map((station) => station.id) };
    lines.set('bus-32', this.busLine);
    this.busValidator = await this.registerValidator(api, adminBearer, { operatorId: 'transerco', lineId: 'bus-32', kind: 'bus' }, 'bus32');

    const passengers = new Passengers(api, [], gates, lines, { ratePerSecond: this.size.ratePerSecond, tapTimeoutMs: 3_000 });
    this.passengers = passengers;
    const riders = await inBatches(this.size.riders, SETUP_CONCURRENCY, async (index) => {
      const rider = await this.registerRider(api, `rider-${index}`);
      rider.short = index % 3 === 2;
      await this.expectTopUp(passengers, rider, rider.short ? SHORT_RIDER_TOP_UP : RIDER_TOP_UP);
      const line = lines.get(index % 2 === 0 ? 'metro-2a' : 'metro-3')!;
      const [origin, destination] = [line.stations[index % line.stations.length], line.stations[(index + 1) % line.stations.length]];
      await this.expectOrder(passengers, rider, { productId: 'metro-single', originStationId: origin, destinationStationId: destination });
      if (index % 2 === 0 && !rider.short) await this.expectOrder(passengers, rider, { productId: 'metro-day' });
      return rider;
    });
    passengers.riders.push(...riders);
    // Offline riders: each with a bus single trip, a bus day pass and pay-as-you-go; half of them with little money left.
    const [s1, s4] = [this.busLine.stations[1], this.busLine.stations[4]];
    this.offlineRiders = await inBatches(this.size.offlineRiders, SETUP_CONCURRENCY, async (index) => {
      const rider = await this.registerRider(api, `offline-${index}`);
      await this.expectTopUp(passengers, rider, index % 2 === 0 ? 40_000 : 100_000);
      await this.expectOrder(passengers, rider, { productId: 'bus-single', originStationId: s1, destinationStationId: s4 });
      await this.expectOrder(passengers, rider, { productId: 'bus-day' });
      return rider;
    });
    // Probe riders: a small wallet, ridden pay-as-you-go while Postgres is down, then spent on a ticket as it returns.
    this.probeRiders = await inBatches(2, SETUP_CONCURRENCY, async (index) => {
      const rider = await this.registerRider(api, `probe-${index}`);
      await this.expectTopUp(passengers, rider, PROBE_TOP_UP);
      return rider;
    });
    if (this.options.copies) {
      // Pay-as-you-go riders whose entries, uploaded late, are past the journey limit: the sweeper's to close.
      this.overdueRiders = await inBatches(OVERDUE_RIDERS, SETUP_CONCURRENCY, async (index) => {
        const rider = await this.registerRider(api, `overdue-${index}`);
        await this.expectTopUp(passengers, rider, RIDER_TOP_UP);
        return rider;
      });
      const line = lines.get('metro-2a')!;
      this.overdueGate = await this.registerValidator(api, adminBearer, { operatorId: 'hmc', lineId: line.id, stationId: line.stations[0], kind: 'gate' }, 'overdue');
    }
    this.setupDoneAt = Date.now();
    const tally = passengers.tally;
    this.say(
      'setup',
      `through the API: an admin; ${this.gateCount()} gates at ${this.size.stationsPerLine} stations of metro 2A and 3 (two per station) and a bus validator on bus 32; ` +
        `${riders.length} riders registered, topped up with ${RIDER_TOP_UP.toLocaleString('en')} đồng each (every third only ${SHORT_RIDER_TOP_UP.toLocaleString('en')}), ${tally.get('orders.keys')} orders; ` +
        `${this.offlineRiders.length} riders kept for the offline batch, ${this.probeRiders.length} probe riders with ${PROBE_TOP_UP.toLocaleString('en')} đồng`,
    );
  }

  private async registerValidator(api: Api, adminBearer: string, placement: { operatorId: string; lineId: string; stationId?: string; kind: 'gate' | 'bus' }, label: string): Promise<Gate> {
    const device = await api.expect<{ deviceId: string; secret: string }>(201, 'POST', '/v1/admin/devices', { bearer: adminBearer, body: placement });
    const token = await api.expect<{ accessToken: string }>(200, 'POST', '/v1/devices/token', { body: { deviceId: device.deviceId, secret: device.secret } });
    return {
      label: label.replace(/[^A-Za-z0-9.-]/g, ''),
      deviceId: device.deviceId,
      bearer: `Bearer ${token.accessToken}`,
      lineId: placement.lineId,
      ...(placement.stationId !== undefined && { stationId: placement.stationId }),
      seq: 0,
      queue: [],
      uploading: false,
    };
  }

  private async registerRider(api: Api, name: string): Promise<Rider> {
    const email = `${name}-${randomUUID().slice(0, 8)}@drill.lienthong.local`;
    const password = `Di tau ${randomBytes(8).toString('hex')}`;
    const { id } = await api.expect<{ id: string }>(201, 'POST', '/v1/auth/register', { body: { email, password, fullName: 'Drill Rider' } });
    const { accessToken } = await api.expect<{ accessToken: string }>(200, 'POST', '/v1/auth/login', { body: { email, password } });
    const bearer = `Bearer ${accessToken}`;
    const qr = await api.expect<string>(200, 'GET', '/v1/me/qr?format=text', { bearer });
    const payg: Subject = { kind: 'payg', id, qr };
    return { id, email, bearer, payg, singles: [], usedSingles: [], passes: [], pending: [], busy: false, short: false };
  }

  private async expectTopUp(passengers: Passengers, rider: Rider, amount: number): Promise<void> {
    const attempt = await passengers.topUp(rider, amount);
    if (!attempt.completed) throw new Error(`setting up: a top-up of ${amount} for ${rider.email} did not complete`);
  }

  private async expectOrder(passengers: Passengers, rider: Rider, item: Parameters<Passengers['order']>[1]): Promise<void> {
    const attempt = await passengers.order(rider, item);
    if (attempt.outcome !== 'paid' || rider.pending.length > 0) throw new Error(`setting up: the order ${JSON.stringify(item)} for ${rider.email} was not paid (${attempt.refusal ?? 'no answer'})`);
  }

  /** The copy in `slot` (the only one unless `copies`), started or started again. */
  private async startService(phase: string, slot = 0): Promise<void> {
    const started = Date.now();
    const port = this.servicePorts[slot];
    const service = await startBuiltService(this.mainJs, { env: this.serviceEnv, port, onLogLine: (line) => this.serviceLogLine(line), readyTimeoutMs: 60_000 });
    this.services[slot] = service;
    const copy = this.services.length > 1 || this.options.copies ? `copy ${slot + 1} ` : '';
    this.say(phase, `service ${copy}started (node main.js, pid ${service.child.pid}, :${port}, persister on, GATE_CLAIM_IDLE_SECONDS=1): ready in ${seconds(Date.now() - started)}`);
  }

  /** Counts the service's warnings and errors by message (and error type), numbers blanked out. */
  private serviceLogLine(line: string): void {
    let entry: { level?: number; msg?: string; err?: { type?: string; message?: string } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      entry = { level: 50, msg: line.slice(0, 200) };
    }
    if ((entry.level ?? 0) < 40) return;
    const cause = entry.err ? ` (${entry.err.type ?? 'Error'}: ${(entry.err.message ?? '').slice(0, 100)})` : '';
    const key = `${entry.level === 40 ? 'warn' : entry.level === 50 ? 'error' : 'fatal'}: ${entry.msg ?? ''}${cause}`
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
      .replace(/-?\d+/g, '#');
    this.serviceLog[key] = (this.serviceLog[key] ?? 0) + 1;
  }

  // ---- faults -----------------------------------------------------------------------------------

  /** Fault 1: Redis stopped gracefully, kept down a few seconds, and started again on the same port and data folder. */
  private async restartRedis(): Promise<void> {
    const phase = 'fault 1: Redis restart';
    await this.loadFor(this.size.loadSeconds / 2);
    const sentinel = randomUUID();
    await this.client!.set('drill:sentinel', sentinel);
    const keysBefore = await this.client!.dbSize();
    const before = this.passengers!.tally.snapshot();
    const stopping = Date.now();
    await this.redis!.stop();
    this.say(phase, `Redis stopped (SIGTERM) in ${seconds(Date.now() - stopping)} holding ${keysBefore} keys; load goes on for ${this.size.redisDownSeconds} s`);
    await this.loadFor(this.size.redisDownSeconds - (Date.now() - stopping) / 1000);
    this.redis = await startRedis(this.redisOptions);
    const down = Date.now() - stopping;
    await this.waitForRedisClient();
    const [back, keysAfter] = [await this.client!.get('drill:sentinel'), await this.client!.dbSize()];
    this.say(phase, `Redis started again on :${this.redisOptions.port} from its append-only file: down for ${seconds(down)}, ${keysAfter} keys; meanwhile: ${figures(this.passengers!.tally.since(before))}`);
    this.record(drillCheck(phase, 'Redis came back with its data', `the key written just before the stop, and about ${keysBefore} keys`, `key ${back === sentinel ? 'read back' : `missing (${back})`}, ${keysAfter} keys`, back === sentinel));
    this.record(moneyCallsRefusedAsUnavailable(phase, 'Redis', this.passengers!.tally.since(before)));
    await this.loadFor(this.size.loadSeconds);
    await this.checkPhase(phase);
  }

  /** Fault 2: Postgres stopped for the outage while load goes on (gates keep answering), then started again. */
  private async stopPostgres(): Promise<void> {
    const phase = 'fault 2: Postgres outage';
    await this.loadFor(this.size.loadSeconds / 2);
    const before = this.passengers!.tally.snapshot();
    const stopping = Date.now();
    await this.postgres!.stop();
    this.say(phase, `Postgres stopped (fast shutdown) in ${seconds(Date.now() - stopping)}; load goes on for ${this.size.postgresOutageSeconds} s`);
    // The probe riders ride the length of metro 2A: the gates charge their wallet mirror; Postgres hears of it later.
    const line = this.passengers!.lines.get('metro-2a')!;
    const [first, last] = [line.stations[0], line.stations[line.stations.length - 1]];
    const gatesOf = (stationId: string) => this.passengers!.gates.get('metro-2a')!.filter((gate) => gate.stationId === stationId);
    await Promise.all(this.probeRiders.map((rider) => this.passengers!.ride(rider.payg, gatesOf(first)[0], gatesOf(last)[0])));
    await this.loadFor(this.size.postgresOutageSeconds - (Date.now() - stopping) / 1000);
    const during = this.passengers!.tally.since(before);
    this.postgres = await startPostgres(this.postgresOptions);
    const down = Date.now() - stopping;
    this.say(phase, `Postgres started again: down for ${seconds(down)}; during the outage: ${figures(during)}`);
    // At once, each probe rider buys a single trip over the same stations: the wallet in Postgres still holds
    // the fare the gates charged, but the rider can no longer spend it.
    const probes = await Promise.all(
      this.probeRiders.map(async (rider) => {
        const attempt = await this.passengers!.order(rider, { productId: 'metro-single', originStationId: first, destinationStationId: last });
        for (const retryUntil = Date.now() + 15_000; attempt.outcome === 'pending' && Date.now() < retryUntil; ) {
          await sleep(200);
          rider.pending.splice(0);
          await this.passengers!.retryOrder(attempt);
        }
        return attempt;
      }),
    );
    this.record(
      drillCheck(
        phase,
        'a purchase as Postgres returns cannot spend fares the gates charged during the outage',
        `the ${probes.length} probe riders (wallet ${PROBE_TOP_UP}, one long pay-as-you-go ride during the outage) refused INSUFFICIENT_BALANCE for a ticket costing that fare again`,
        probes.map((attempt) => (attempt.outcome === 'paid' ? 'paid' : `${attempt.outcome} ${attempt.refusal ?? ''}`.trim())).join(', '),
        probes.every((attempt) => attempt.outcome === 'refused' && attempt.refusal === 'INSUFFICIENT_BALANCE'),
      ),
    );
    const answered = (during['taps.online.accept'] ?? 0) + (during['taps.online.reject'] ?? 0);
    const unanswered = sumWhere(during, (name) => name === 'taps.no answer' || name.startsWith('taps.http '));
    this.record(
      drillCheck(phase, 'gates kept answering while Postgres was down', 'every tap answered online (no timeouts, no 5xx)', `${answered} taps answered online, ${unanswered} without an answer or with a 5xx`, answered > 0 && unanswered === 0),
    );
    this.record(moneyCallsRefusedAsUnavailable(phase, 'Postgres', during));
    await this.loadFor(this.size.loadSeconds);
    await this.checkPhase(phase);
  }

  /** Fault 3: the service killed with SIGKILL while its persister holds unacknowledged taps, and a new copy started. */
  private async killService(): Promise<void> {
    const phase = 'fault 3: SIGKILL';
    await this.loadFor(this.size.loadSeconds / 2);
    const dead = this.services[0];
    const killed = Date.now();
    const { consumerPrefix, pendingAtKill } = await this.killWhileHolding(dead);
    this.say(phase, `service (pid ${dead.child.pid}) killed with SIGKILL; its persister died holding ${pendingAtKill} unacknowledged taps; load goes on`);
    await this.startService(phase);
    this.say(phase, `gates without a service for ${seconds(Date.now() - killed)}`);
    await this.checkClaimed(phase, 'the new copy', consumerPrefix, pendingAtKill);
    await this.loadFor(this.size.loadSeconds);
    await this.checkPhase(phase);
  }

  /**
   * Two copies under load: the one leading the singleton jobs SIGKILLed while its persister holds
   * unacknowledged taps, and taken out of the rotation half a second later (calls it had in flight or
   * got meanwhile go unanswered: the validators keep those taps for their uploads). The other copy must take the lease, claim the dead
   * copy's taps and run the sweeper: entries older than the journey limit, uploaded after the kill,
   * are closed as timed out. Then a replacement copy joins the rotation.
   */
  private async killLeadingCopy(): Promise<void> {
    const phase = 'copies: the leading copy SIGKILLed';
    await this.loadFor(this.size.loadSeconds / 2);
    const leaderPid = await this.waitForLeader(() => true, 30_000);
    const slot = this.services.findIndex((service) => service.child.pid === leaderPid);
    if (slot < 0) throw new Error(`the singleton jobs' lease is held by pid ${leaderPid}, none of the copies (${this.services.map((service) => service.child.pid).join(', ')})`);
    const [dead, survivor] = [this.services[slot], this.services[1 - slot]];
    this.say(phase, `copy ${slot + 1} (pid ${leaderPid}) leads the singleton jobs; copy ${2 - slot} (pid ${survivor.child.pid}) does not`);
    const { consumerPrefix, pendingAtKill } = await this.killWhileHolding(dead);
    const killed = Date.now();
    // The load balancer's health check takes it out: calls in flight there, or sent meanwhile, went unanswered.
    await sleep(500);
    this.api.route([survivor.base]);
    this.say(phase, `copy ${slot + 1} killed with SIGKILL and taken out of the rotation; its persister died holding ${pendingAtKill} unacknowledged taps; load goes on against copy ${2 - slot}`);

    const nextPid = await this.waitForLeader((pid) => pid !== leaderPid, 30_000).catch(() => undefined);
    this.record(
      drillCheck(phase, "the surviving copy took the singleton jobs' lease", `held by pid ${survivor.child.pid}`, nextPid === undefined ? 'held by nobody within 30 s' : `held by pid ${nextPid} ${seconds(Date.now() - killed)} after the kill`, nextPid === survivor.child.pid),
    );
    await this.checkClaimed(phase, 'the surviving copy', consumerPrefix, pendingAtKill);
    await this.checkSweepAfterKill(phase);

    await this.startService(phase, slot);
    this.api.route(this.services.map((service) => service.base));
    this.say(phase, `a replacement copy ${slot + 1} joined the rotation ${seconds(Date.now() - killed)} after the kill`);
    await this.loadFor(this.size.loadSeconds);
    await this.checkPhase(phase);
  }

  /** SIGKILL at a moment the copy's persister holds taps it read but has not acknowledged (it acknowledges after the commit). */
  private async killWhileHolding(dead: BuiltService): Promise<{ consumerPrefix: string; pendingAtKill: number }> {
    const consumerPrefix = `${hostname()}-${dead.child.pid}-`;
    const deadline = Date.now() + 5_000;
    let held = 0;
    while (held === 0 && Date.now() < deadline) held = (await this.consumerPending(consumerPrefix)) ?? 0;
    await dead.kill();
    return { consumerPrefix, pendingAtKill: (await this.consumerPending(consumerPrefix)) ?? 0 };
  }

  private async checkClaimed(phase: string, who: string, consumerPrefix: string, pendingAtKill: number): Promise<void> {
    const claimStart = Date.now();
    let left = await this.consumerPending(consumerPrefix);
    while ((left ?? 0) > 0 && Date.now() - claimStart < 30_000) {
      await sleep(100);
      left = await this.consumerPending(consumerPrefix);
    }
    this.say(phase, `${who} claimed the dead copy's pending taps in ${seconds(Date.now() - claimStart)} (left with it: ${left ?? 0})`);
    this.record(drillCheck(phase, `${who} claimed the dead copy's pending taps`, `the ${pendingAtKill} taps pending with the dead consumer taken over`, `${left ?? 0} still pending with it`, (left ?? 0) === 0));
  }

  /** The pid of the copy holding the singleton jobs' lease once `wanted(pid)`, from Postgres (the lease names its holder). */
  private async waitForLeader(wanted: (pid: number) => boolean, timeoutMs: number): Promise<number> {
    const db = new Client({ connectionString: this.databaseUrl });
    await db.connect();
    try {
      for (const deadline = Date.now() + timeoutMs; ; await sleep(200)) {
        const { rows } = await db.query<{ name: string }>(
          `SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objsubid = 2
              AND l.objid::bigint = (hashtext('singleton-jobs')::bigint + 4294967296) % 4294967296`,
          [LEASE_LOCK_CLASS],
        );
        const pid = Number(/ (\d+)@/.exec(rows[0]?.name ?? '')?.[1]);
        if (Number.isInteger(pid) && wanted(pid)) return pid;
        if (Date.now() > deadline) throw new Error(`no copy took the singleton jobs' lease within ${timeoutMs} ms`);
      }
    } finally {
      await db.end();
    }
  }

  /**
   * After the leader's death: pay-as-you-go entries older than the journey limit, uploaded as an
   * offline batch, must be closed as timed out by the sweeper, which runs only in the copy leading.
   */
  private async checkSweepAfterKill(phase: string): Promise<void> {
    const passengers = this.passengers!;
    const gate = this.overdueGate!;
    const limitMinutes = Number(this.serviceEnv.GATE_JOURNEY_LIMIT_MINUTES);
    const enteredAt = Date.now() - (limitMinutes + 5) * 60_000;
    const taps: OfflineTap[] = this.overdueRiders.map((rider, index) => ({
      tapId: `${gate.label}-${++gate.seq}`,
      qr: rider.payg.qr,
      direction: 'entry',
      stationId: gate.stationId!,
      occurredAt: new Date(enteredAt + index * 1_000).toISOString(),
      subject: rider.payg,
    }));
    for (const tap of taps) passengers.book.sent.set(TapBook.key(gate.deviceId, tap.tapId), { gate, tapId: tap.tapId });
    const results = await passengers.uploadBatch(gate, taps);
    const accepted = results?.filter((result) => result.verdict === 'accept').length ?? 0;
    const started = Date.now();
    const accounts = this.overdueRiders.map((rider) => rider.id);
    const db = new Client({ connectionString: this.databaseUrl });
    await db.connect();
    let closed = 0;
    try {
      for (; closed < taps.length && Date.now() - started < SWEEP_TIMEOUT_MS; await sleep(500)) {
        const { rows } = await db.query<{ closed: number }>(`SELECT count(*)::int AS closed FROM journeys WHERE account_id::text = ANY($1) AND status = 'timed_out'`, [accounts]);
        closed = rows[0].closed;
      }
    } finally {
      await db.end();
    }
    this.say(phase, `uploaded ${taps.length} pay-as-you-go entries made ${limitMinutes + 5} minutes ago (${accepted} accepted); the sweeper closed ${closed} as timed out within ${seconds(Date.now() - started)}`);
    this.record(
      drillCheck(
        phase,
        'the singleton jobs still ran after the kill: the sweeper closed journeys past their limit',
        `the ${taps.length} overdue entries accepted and their journeys timed out in Postgres within ${SWEEP_TIMEOUT_MS / 1000} s`,
        `${accepted} accepted, ${closed} timed out`,
        accepted === taps.length && closed === taps.length,
      ),
    );
  }

  private async consumerPending(prefix: string): Promise<number | undefined> {
    let found: number | undefined;
    for (const stream of STREAMS) {
      const consumers = await this.client!.xInfoConsumers(stream, GROUP).catch(() => []);
      const pending = consumers.find((consumer) => String(consumer.name).startsWith(prefix))?.pending;
      if (pending !== undefined) found = (found ?? 0) + pending;
    }
    return found;
  }

  /** Fault 4: a bus validator uploads a batch of offline taps, then the same batch again; the second upload must change nothing. */
  private async uploadOfflineBatchTwice(): Promise<void> {
    const phase = 'fault 4: offline batch uploaded twice';
    const passengers = this.passengers!;
    await this.loadFor(this.size.loadSeconds / 2);
    const taps = this.offlineBatch();
    for (const tap of taps) passengers.book.sent.set(TapBook.key(this.busValidator.deviceId, tap.tapId), { gate: this.busValidator, tapId: tap.tapId });
    const first = await passengers.uploadBatch(this.busValidator, taps);
    if (!first) throw new Error('the offline batch was not taken');
    const firstDrain = await waitForDrain(this.client!, STREAMS, GROUP, DRAIN_TIMEOUT_MS);
    const accepted = first.filter((result) => result.verdict === 'accept').length;
    const invalid = first.filter((result) => result.valid === false).length;
    this.say(phase, `uploaded ${taps.length} offline taps of ${this.offlineRiders.length} riders: ${accepted} accepted (${invalid} of them not valid online); written to Postgres in ${seconds(firstDrain.ms)}`);
    this.record(drillCheck(phase, 'the offline batch was taken', `${taps.length} results, every tap accepted (offline)`, `${first.length} results, ${accepted} accepted`, first.length === taps.length && accepted === taps.length));
    const stateBefore = await offlineRidersState(this.databaseUrl, this.client!, this.busValidator.deviceId, this.offlineRiders);

    const second = await passengers.uploadBatch(this.busValidator, taps);
    const secondDrain = await waitForDrain(this.client!, STREAMS, GROUP, DRAIN_TIMEOUT_MS);
    const stateAfter = await offlineRidersState(this.databaseUrl, this.client!, this.busValidator.deviceId, this.offlineRiders);
    const changed = second === undefined ? [] : second.filter((result, index) => JSON.stringify(result) !== JSON.stringify(first[index]));
    this.say(phase, `uploaded the same ${taps.length} taps again (same tap ids): ${changed.length} results differ; persister caught up in ${seconds(secondDrain.ms)}`);
    this.record(
      drillCheck(
        phase,
        'the second upload answered the first verdicts again',
        `${taps.length} results equal to the first upload's`,
        second === undefined ? 'the upload was not taken' : `${changed.length} differ${changed.length > 0 ? ` (e.g. ${JSON.stringify(changed[0])})` : ''}`,
        second !== undefined && changed.length === 0,
      ),
    );
    this.record(
      drillCheck(
        phase,
        'the second upload changed nothing',
        "the batch's taps, the riders' journeys, wallets and ledger entries, and their gate state in Redis as after the first upload",
        stateAfter === stateBefore ? 'all the same' : `changed: ${describeChange(stateBefore, stateAfter)}`,
        stateAfter === stateBefore,
      ),
    );
    await this.loadFor(this.size.loadSeconds / 2);
    await this.checkPhase(phase);
  }

  /**
   * Fault 5: bank cards' journeys of yesterday, uploaded by the bus validator, and the daily charge job
   * asked to run; the service is SIGKILLed as soon as the first charge is captured (the job halfway:
   * charges gathered, some asked of the acquirer, some answered, some captured), started again, and the
   * job run again. Every card must end with one charge for the day, captured once (declined for the
   * declining test cards), its amount the sum of its journeys, and one ledger entry per journey.
   */
  private async killChargeJob(): Promise<void> {
    const phase = 'fault 5: charge job SIGKILLed';
    const passengers = this.passengers!;
    const gate = this.busValidator;
    const stops = this.busLine.stations;
    const count = Math.max(MIN_CARDS, Math.round(this.size.riders * CARDS_PER_RIDER));
    const tokens = Array.from({ length: count }, (_, index) => `${index % 5 === 4 ? 'tok_decline_drill' : 'tok_drill'}_${randomUUID().replace(/-/g, '')}`);
    const yesterday = Date.now() - 24 * 3_600_000;
    const taps: OfflineTap[] = tokens.flatMap((token, index) => {
      const subject: Subject = { kind: 'payg', id: `card-${index}`, qr: '' };
      const at = yesterday + index * 60_000;
      return (['entry', 'exit'] as const).map((direction) => ({
        tapId: `${gate.label}-${++gate.seq}`,
        qr: '',
        medium: { kind: 'bank_card', token },
        direction,
        stationId: direction === 'entry' ? stops[1] : stops[3],
        occurredAt: new Date(at + (direction === 'entry' ? 0 : 30_000)).toISOString(),
        subject,
      }));
    });
    for (const tap of taps) passengers.book.sent.set(TapBook.key(gate.deviceId, tap.tapId), { gate, tapId: tap.tapId });
    const results = await passengers.uploadBatch(gate, taps);
    const accepted = results?.filter((result) => result.verdict === 'accept').length ?? 0;
    await waitForDrain(this.client!, STREAMS, GROUP, DRAIN_TIMEOUT_MS);
    const db = new Client({ connectionString: this.databaseUrl });
    await db.connect();
    try {
      const cardIds = (
        await db.query<{ card_id: string }>(
          `SELECT DISTINCT card_id FROM taps WHERE device_id = $1 AND tap_id = ANY($2) AND card_id IS NOT NULL`,
          [gate.deviceId, taps.map((tap) => tap.tapId)],
        )
      ).rows.map((row) => row.card_id);
      this.say(phase, `uploaded ${taps.length} offline taps of ${count} bank cards' journeys of yesterday (${accepted} accepted); ${cardIds.length} cards in Postgres`);
      const statuses = async () =>
        (await db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM bank_card_charges WHERE card_id = ANY($1) GROUP BY status ORDER BY status`, [cardIds])).rows;
      const run = this.api.call('POST', '/v1/admin/bank-cards/charge-run', { bearer: this.adminBearer, body: {}, timeoutMs: 60_000 });
      const deadline = Date.now() + 30_000;
      let atKill = await statuses();
      while (!atKill.some((row) => row.status === 'captured') && Date.now() < deadline) atKill = await statuses();
      await this.services[0].kill();
      const afterKill = await statuses();
      const firstRun = await run;
      const captured = (rows: Array<{ status: string; n: number }>) => rows.find((row) => row.status === 'captured')?.n ?? 0;
      this.say(phase, `charge run asked; service SIGKILLed when its charges stood at ${describe(atKill)} (after the kill: ${describe(afterKill)}); the run answered ${firstRun.status || 'nothing'}`);
      this.record(
        drillCheck(phase, 'the charge job was killed halfway', `some of the ${count} cards' charges captured, some not, at the kill`, `${describe(afterKill)}`, captured(afterKill) > 0 && captured(afterKill) < count),
      );
      await this.startService(phase);
      const rerun = await this.api.call('POST', '/v1/admin/bank-cards/charge-run', { bearer: this.adminBearer, body: {}, timeoutMs: 60_000 });
      this.say(phase, `charge run asked again: ${rerun.status} ${JSON.stringify(rerun.body)}; charges now ${describe(await statuses())}`);
      // One after the other: one connection.
      const { rows: charges } = await db.query<{ card_id: string; charges: number; status: string; amount: number; journeys: number; fares: number }>(
          `SELECT c.card_id, count(*)::int AS charges, min(c.status) AS status, sum(c.amount)::int AS amount,
                  (SELECT count(*)::int FROM journeys j WHERE j.card_id = c.card_id AND j.charge > 0) AS journeys,
                  (SELECT coalesce(sum(j.charge), 0)::int FROM journeys j WHERE j.card_id = c.card_id) AS fares
             FROM bank_card_charges c WHERE c.card_id = ANY($1) GROUP BY c.card_id`,
          [cardIds],
        );
      const { rows: operations } = await db.query<{ charge_id: string; captures: number; approvals: number }>(
          `SELECT c.id AS charge_id,
                  (SELECT count(*)::int FROM dev_acquirer_operations o WHERE o.merchant_reference = c.id::text AND o.operation = 'capture') AS captures,
                  (SELECT count(*)::int FROM dev_acquirer_operations o WHERE o.merchant_reference = c.id::text AND o.operation = 'authorise' AND o.outcome = 'approved') AS approvals
             FROM bank_card_charges c WHERE c.card_id = ANY($1)`,
          [cardIds],
        );
      const { rows: ledger } = await db.query<{ journeys: number; posted: number; twice: number }>(
          `SELECT count(*)::int AS journeys,
                  (SELECT count(*)::int FROM ledger_transactions t WHERE t.kind = 'card_fare' AND t.reference IN (SELECT cj.journey_id::text FROM bank_card_charge_journeys cj JOIN bank_card_charges c ON c.id = cj.charge_id WHERE c.card_id = ANY($1) AND c.status = 'captured')) AS posted,
                  (SELECT count(*)::int FROM (SELECT t.reference FROM ledger_transactions t WHERE t.kind = 'card_fare' GROUP BY t.reference HAVING count(*) > 1) d) AS twice
             FROM bank_card_charge_journeys cj JOIN bank_card_charges c ON c.id = cj.charge_id WHERE c.card_id = ANY($1) AND c.status = 'captured'`,
          [cardIds],
        );
      const declining = Math.floor(count / 5);
      const wrong = charges.filter((row) => row.charges !== 1 || row.amount !== row.fares || !['captured', 'declined'].includes(row.status));
      const charged = operations.filter((row) => row.captures > 1 || row.approvals > 1);
      const declined = charges.filter((row) => row.status === 'declined').length;
      this.record(
        drillCheck(
          phase,
          'the job run again finished every charge: one per card and day, its amount the sum of its journeys',
          `${count} cards with one charge each: ${count - declining} captured, ${declining} declined (the declining test cards)`,
          `${charges.length} cards with charges, ${declined} declined, ${wrong.length} wrong${wrong.length > 0 ? ` (e.g. ${JSON.stringify(wrong[0])})` : ''}; run answered ${rerun.status}`,
          rerun.status === 200 && charges.length === count && declined === declining && wrong.length === 0,
        ),
      );
      this.record(
        drillCheck(
          phase,
          'no card was charged twice',
          "at most one approved authorisation and one capture per charge in the acquirer's books; one card_fare ledger transaction per captured journey",
          `${charged.length} charges asked for money twice; ${ledger[0].posted} of ${ledger[0].journeys} journeys posted, ${ledger[0].twice} posted twice`,
          charged.length === 0 && ledger[0].posted === ledger[0].journeys && ledger[0].twice === 0,
        ),
      );
    } finally {
      await db.end();
    }
    await this.loadFor(this.size.loadSeconds / 2);
    await this.checkPhase(phase);
  }

  /**
   * Per offline rider, in time order on one bus validator: two pay-as-you-go trips (the poorer half
   * goes below zero), a single trip, the same single trip again (refused online: ALREADY_USED), a
   * pass trip, and an exit without an entry (NO_ENTRY).
   */
  private offlineBatch(): OfflineTap[] {
    const stops = this.busLine.stations;
    const steps: Array<[(rider: Rider) => Subject, 'entry' | 'exit', string]> = [
      [(rider) => rider.payg, 'entry', stops[1]],
      [(rider) => rider.payg, 'exit', stops[3]],
      [(rider) => rider.payg, 'entry', stops[3]],
      [(rider) => rider.payg, 'exit', stops[5]],
      [(rider) => rider.singles[0], 'entry', stops[1]],
      [(rider) => rider.singles[0], 'exit', stops[4]],
      [(rider) => rider.singles[0], 'entry', stops[1]],
      [(rider) => rider.singles[0], 'exit', stops[2]],
      [(rider) => rider.passes[0], 'entry', stops[2]],
      [(rider) => rider.passes[0], 'exit', stops[5]],
      [(rider) => rider.payg, 'exit', stops[2]],
    ];
    const start = Math.max(this.setupDoneAt + 1_000, Date.now() - (steps.length + 5) * 1_000);
    const taps: OfflineTap[] = [];
    steps.forEach(([subjectOf, direction, stationId], step) => {
      this.offlineRiders.forEach((rider, index) => {
        const subject = subjectOf(rider);
        taps.push({
          tapId: `${this.busValidator.label}-${++this.busValidator.seq}`,
          qr: subject.qr,
          direction,
          stationId,
          occurredAt: new Date(start + step * 1_000 + index * 10).toISOString(),
          subject,
        });
      });
    });
    return taps;
  }

  // ---- checks -----------------------------------------------------------------------------------

  /** Quiets the load, lets it settle and the persister drain, then checks everything from Postgres. */
  private async checkPhase(phase: string): Promise<void> {
    const passengers = this.passengers!;
    await passengers.pause();
    const settling = Date.now();
    const left = await passengers.settle(SETTLE_TIMEOUT_MS);
    this.record(
      drillCheck(
        phase,
        'the load settled: retried calls answered, offline taps uploaded',
        'no call pending, no tap left in a validator',
        `${left.pendingCalls} calls pending, ${left.queuedTaps} taps queued after ${seconds(Date.now() - settling)}`,
        left.pendingCalls === 0 && left.queuedTaps === 0,
      ),
    );
    const drain = await waitForDrain(this.client!, STREAMS, GROUP, DRAIN_TIMEOUT_MS);
    this.record(
      drillCheck(phase, 'the persister wrote the whole tap stream', 'consumer group: nothing unread, nothing pending', `${drain.pending} pending, ${drain.unread ? 'some' : 'nothing'} unread after ${seconds(drain.ms)}`, drain.drained),
    );
    for (const [slot, service] of this.services.entries()) {
      const alive = service.child.exitCode === null && service.child.signalCode === null;
      const name = this.services.length > 1 ? `copy ${slot + 1} of the service stayed up` : 'the service stayed up';
      this.record(
        drillCheck(phase, name, 'the service process running, nothing on stderr', alive ? `running; stderr ${JSON.stringify(service.stderr().slice(0, 300))}` : `exited (${service.child.exitCode ?? service.child.signalCode}); stderr ${service.stderr().slice(0, 500)}`, alive && service.stderr() === ''),
      );
      if (!alive) await this.startService(phase, slot);
    }
    const everyone = [...passengers.riders, ...this.offlineRiders, ...this.probeRiders, ...this.overdueRiders];
    for (const check of await checkInvariants(phase, this.databaseUrl, this.client!, passengers, everyone)) this.record(check);
    this.endPhase(phase);
    passengers.start();
    this.beginPhase();
  }

  private record(check: DrillCheck): void {
    this.checks.push(check);
    this.say(check.phase, `${check.passed ? 'PASS' : 'FAIL'} ${check.name}: ${check.found}${check.passed ? '' : ` (expected ${check.expected})`}`);
  }

  private beginPhase(): void {
    this.phaseStarted = Date.now();
    this.phaseTally = this.passengers!.tally.snapshot();
  }

  private endPhase(name: string): void {
    const phase = { name, seconds: Math.round((Date.now() - this.phaseStarted) / 100) / 10, figures: this.passengers!.tally.since(this.phaseTally) };
    this.phases.push(phase);
    this.say(name, `figures over ${phase.seconds} s: ${figures(phase.figures)}`);
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  private async loadFor(secondsToRun: number): Promise<void> {
    const until = Date.now() + Math.max(0, secondsToRun) * 1000;
    while (Date.now() < until) {
      this.options.signal?.throwIfAborted();
      await sleep(Math.min(250, until - Date.now()));
    }
    this.options.signal?.throwIfAborted();
  }

  private async waitForRedisClient(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while ((await this.client!.ping().catch(() => '')) !== 'PONG') {
      if (Date.now() > deadline) throw new Error('the drill could not reach Redis again');
      await sleep(100);
    }
  }

  private gateCount(): number {
    return [...(this.passengers?.gates.values() ?? [])].reduce((sum, gates) => sum + gates.length, 0);
  }

  private say(phase: string, line: string): void {
    this.options.log(`[${((Date.now() - this.started) / 1000).toFixed(1).padStart(6)} s] ${phase}: ${line}`);
  }

  private async tearDown(): Promise<void> {
    await this.passengers?.pause().catch(() => undefined);
    await Promise.all(this.services.map((service) => service.stop().catch(() => undefined)));
    if (this.client?.isOpen) await this.client.close().catch(() => undefined);
    await this.redis?.stop().catch(() => undefined);
    await this.postgres?.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `count` items spread evenly over the list (all of it when shorter). */
function spread(items: readonly string[], count: number): string[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, index) => items[Math.round((index * (items.length - 1)) / (count - 1))]);
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

async function inBatches<T>(count: number, concurrency: number, make: (index: number) => Promise<T>): Promise<T[]> {
  const made: T[] = [];
  for (let first = 0; first < count; first += concurrency) {
    made.push(...(await Promise.all(Array.from({ length: Math.min(concurrency, count - first) }, (_, offset) => make(first + offset)))));
  }
  return made;
}

/** Charges by status, e.g. `captured 7, pending 13`. */
function describe(rows: ReadonlyArray<{ status: string; n: number }>): string {
  return rows.length === 0 ? 'none' : rows.map((row) => `${row.status} ${row.n}`).join(', ');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function figures(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? 'nothing' : entries.map(([name, count]) => `${name} ${count}`).join(', ');
}

/**
 * Purchases and top-ups during an outage: done, refused for the rider's balance, or refused with 503 (or
 * not answered in time) and retried later with the same Idempotency-Key (the settle and order checks see
 * them through); never a 500.
 */
function moneyCallsRefusedAsUnavailable(phase: string, server: string, during: Record<string, number>): DrillCheck {
  const answers = Object.entries(during).filter(([name]) => /^(orders|top-ups)\.answered /.test(name));
  const refusals = answers.filter(([name]) => !name.endsWith(' 201') && name !== 'orders.answered 409');
  const unexpected = refusals.filter(([name]) => !name.endsWith(' 503') && !name.endsWith(' 0'));
  return drillCheck(
    phase,
    `purchases and top-ups while ${server} was down were refused with 503 if at all (retried later with the same key)`,
    'each purchase or top-up answered 201, 409 INSUFFICIENT_BALANCE or 503 SERVICE_UNAVAILABLE (or not in time: retried), never 500',
    answers.length === 0 ? 'none was attempted during the outage' : answers.map(([name, count]) => `${count} × ${name}`).join(', '),
    unexpected.length === 0,
  );
}

function sumWhere(counts: Record<string, number>, matches: (name: string) => boolean): number {
  return Object.entries(counts).reduce((sum, [name, count]) => (matches(name) ? sum + count : sum), 0);
}

/** Which parts of two JSON states differ (top-level keys and how many items). */
function describeChange(before: string, after: string): string {
  const [a, b] = [JSON.parse(before) as Record<string, unknown[]>, JSON.parse(after) as Record<string, unknown[]>];
  return Object.keys(a)
    .filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]))
    .map((key) => `${key} (${a[key].filter((item, index) => JSON.stringify(item) !== JSON.stringify(b[key][index])).length} items)`)
    .join(', ');
}

function numberArgument(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number`);
  return value;
}

if (require.main === module) {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const base = process.argv.includes('--reduced') ? REDUCED_SIZE : FULL_SIZE;
  const copies = process.argv.includes('--copies');
  const size: FaultDrillSize = {
    ...base,
    riders: numberArgument('--riders', base.riders),
    ratePerSecond: numberArgument('--rate', base.ratePerSecond),
    postgresOutageSeconds: numberArgument('--outage', base.postgresOutageSeconds),
    redisDownSeconds: numberArgument('--redis-down', base.redisDownSeconds),
  };
  runFaultDrill({ ...size, copies, log: (line) => process.stdout.write(`${line}\n`), signal: controller.signal }).then(
    (report) => process.exit(report.passed ? 0 : 1),
    (error: unknown) => {
      process.stderr.write(`the drill failed: ${String((error as Error)?.stack ?? error)}\n`);
      process.exit(1);
    },
  );
}
