/**
 * What every section of `npm run bench` shares: a temporary folder with throwaway Postgres and Redis,
 * the built service (node dist/main.js) on a free port, and the clean-up of everything a section
 * started — when it ends, when it fails, and on Ctrl-C or SIGTERM (the servers run in their own
 * process groups, so nothing else would stop them). Each section is its own process: run.ts starts
 * them one after the other, and a section's memory figures are its own.
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateAndMaybeSeed } from '../../src/cli/migrate';
import { startPostgres, startRedis, type RunningServer } from '../../src/local-services/servers';
import { freePort } from '../../src/local-services/system';

export const REPOSITORY = join(__dirname, '..', '..', '..', '..');

/** A message a section sends run.ts: its figure table, printed again at the end of a whole run. */
export interface SectionTable {
  section: string;
  table: string;
}

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Prints a section's figure table, and hands it to run.ts when it started this section. */
export function printTable(section: string, table: string): void {
  process.stdout.write(table);
  const message: SectionTable = { section, table };
  process.send?.(message);
}

/** Postgres (migrated, with the Hà Nội network and fares) and Redis, started in the run's folder. */
export interface Databases {
  postgres: RunningServer;
  redis: RunningServer;
}

/** One section's run: what it starts is stopped again, last started first. */
export class BenchRun {
  readonly dir: string;
  private readonly cleanups: Array<() => Promise<void>> = [];
  private closing?: Promise<void>;

  constructor(name: string) {
    this.dir = mkdtempSync(join(tmpdir(), `lien-thong-${name}-bench-`));
    chmodSync(this.dir, 0o755); // Postgres runs as an unprivileged user when we are root
    this.defer(async () => rmSync(this.dir, { recursive: true, force: true }));
  }

  /** Runs `cleanup` when the run closes, before everything deferred earlier. */
  defer(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  /** Stops everything (once, however often it is called). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const cleanup of this.cleanups.reverse()) await cleanup().catch((error: unknown) => process.stderr.write(`clean-up: ${String(error)}\n`));
    })();
    return this.closing;
  }

  /** A throwaway Postgres, migrated and seeded. */
  async postgres(log: (line: string) => void = () => undefined): Promise<RunningServer> {
    const postgres = await startPostgres({
      dataDir: join(this.dir, 'postgres'),
      port: await freePort(),
      user: 'bench',
      password: randomBytes(9).toString('hex'),
      database: 'lienthong_bench',
      ephemeral: true,
    });
    this.defer(() => postgres.stop());
    await migrateAndMaybeSeed(postgres.url, true, log);
    return postgres;
  }

  /** A throwaway Postgres (migrated and seeded) and Redis. */
  async databases(): Promise<Databases> {
    const postgres = await this.postgres();
    const redis = await startRedis({ dataDir: join(this.dir, 'redis'), port: await freePort(), ephemeral: true });
    this.defer(() => redis.stop());
    return { postgres, redis };
  }

  /** A child process stopped when the run closes: SIGTERM, and SIGKILL if it is still there 10 s later. */
  own(child: ChildProcess): ChildProcess {
    this.defer(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        process.stderr.write(`process ${child.pid} did not stop within 10 s of SIGTERM: killing it\n`);
        child.kill('SIGKILL');
      }, 10_000);
      await exited;
      clearTimeout(timer);
    });
    return child;
  }

  /**
   * The built service (dist/main.js) on 127.0.0.1:port, once /health/ready answers; its log goes nowhere, its errors to stderr.
   * One process unless `env` sets WORKERS.
   * BENCH_SERVICE_NODE_ARGS adds options for node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/profiles`).
   */
  async service(env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
    const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = this.own(
      spawn(process.execPath, [...nodeArgs, join(REPOSITORY, 'dist', 'main.js')], { env: { WORKERS: '1', ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'inherit'] }),
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then((response) => response.ok, () => false);
      if (ready) return child;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the service exited (${child.exitCode ?? child.signalCode}) before it was ready`);
      if (Date.now() > deadline) throw new Error(`the service did not become ready on port ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** The service's environment on these servers: development mode with a fresh QR signing key, no gate-state rebuild, no docs. */
export function serviceEnv(databases: Databases, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const qrKeys = `bench:${generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`;
  return {
    ...process.env,
    NODE_ENV: 'development',
    DATABASE_URL: databases.postgres.url,
    REDIS_URL: databases.redis.url,
    QR_SIGNING_KEYS: qrKeys,
    GATE_REBUILD_ON_EMPTY_REDIS: 'false',
    DOCS_ENABLED: 'false',
    // Riders are registered and logged in from one address.
    REGISTRATIONS_PER_ADDRESS: '100000',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    ...extra,
  };
}

/**
 * Runs a section as this process's main: closes the run at the end, on an error (exit 1) and on
 * SIGINT/SIGTERM (exit 130); a second signal while closing is ignored so the servers still stop.
 */
export function runSection(name: string, work: (run: BenchRun) => Promise<void>): void {
  const run = new BenchRun(name);
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`${name} bench: ${signal}, stopping what it started…\n`);
    void run.close().finally(() => process.exit(130));
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  work(run)
    .catch((error: unknown) => {
      process.stderr.write(`${name} bench failed: ${String((error as Error)?.stack ?? error)}\n`);
      process.exitCode = 1;
    })
    .then(() => run.close())
    .then(() => {
      if (!interrupted) process.exit();
    }, () => process.exit(1));
}
