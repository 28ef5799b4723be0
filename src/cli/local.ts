import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { seedDemoCredentials } from '../accounts/demo-seed';
import { closeGracefully, createApp } from '../app';
import { ConfigError, loadConfig, type AppConfig } from '../config/config';
import { dataSourceOptions } from '../database/data-source-options';
import { RunningServer, startPostgres, startRedis } from '../local-services/servers';
import { canEnter, serviceUser } from '../local-services/system';
import { migrateAndMaybeSeed } from './migrate';
import { superviseWorkers } from '../workers';
import { runCommand } from './run-command';

/**
 * `npm run local`: starts Postgres and Redis on this machine (installing them when missing and
 * allowed), migrates, seeds Hà Nội, and serves. Ctrl-C stops the service, then the servers; the
 * data stays in LOCAL_DATA_DIR for the next start.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const database = localTarget(config.database.url, 'DATABASE_URL', 5432);
  const redis = localTarget(config.redis.url, 'REDIS_URL', 6379);
  const dataDir = chooseDataDir();
  const say = (line: string) => process.stdout.write(`${line}\n`);

  const workers = workersOption(process.argv.slice(2));
  const servers: RunningServer[] = [];
  let stopping = false;
  const stopAll = async (stopService?: () => Promise<void>) => {
    if (stopping) return;
    stopping = true;
    say('\nStopping…');
    if (stopService) await stopService().catch(() => undefined);
    for (const server of servers.reverse()) await server.stop();
    say('Stopped. Data kept in ' + dataDir);
  };
  const onSignal = (stopService?: () => Promise<void>) => () => void stopAll(stopService).then(() => process.exit(0));
  process.once('SIGINT', onSignal());
  process.once('SIGTERM', onSignal());

  try {
    say(`Data folder: ${dataDir}`);
    const postgres = await startPostgres({
      dataDir: join(dataDir, 'postgres'),
      port: database.port,
      user: decodeURIComponent(database.url.username),
      password: decodeURIComponent(database.url.password),
      database: decodeURIComponent(database.url.pathname.slice(1)),
    });
    servers.push(postgres);
    say(`Postgres ready on port ${database.port} (role ${decodeURIComponent(database.url.username)}: no superuser, owns only its schema)`);
    const redisPassword = decodeURIComponent(redis.url.password);
    servers.push(await startRedis({ dataDir: join(dataDir, 'redis'), port: redis.port, ...(redisPassword ? { password: redisPassword } : {}) }));
    say(`Redis ready on port ${redis.port} (AOF, fsync every second${redisPassword ? ', password required' : ''})`);
    await migrateAndMaybeSeed(config.database.url, true, say);

    const demoCredentials = config.nodeEnv === 'development' ? await seededDemoCredentials(config) : [];
    if (workers > 1) {
      say(`Starting ${workers} workers sharing port ${config.port}`);
      const supervisor = superviseWorkers({ count: workers, exec: join(__dirname, '..', 'main.js'), say });
      setSignals(onSignal(() => supervisor.stop()));
      await supervisor.ready;
    } else {
      const app = await createApp(config);
      setSignals(onSignal(() => closeGracefully(app)));
      await app.listen({ port: config.port, host: config.host });
    }
    const base = `http://localhost:${config.port}`;
    say('');
    say(`Liên Thông is serving on ${base}`);
    say(`  readiness   ${base}/health/ready`);
    say(`  lines       ${base}/v1/lines`);
    say(`  API docs    ${base}/docs`);
    for (const line of demoCredentials) say(line);
    say('Press Ctrl-C to stop the service and its databases.');
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Ctrl-C and SIGTERM from now on stop what `handler` stops. */
function setSignals(handler: () => void): void {
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

/** `--workers N` (default 1): N worker processes sharing the port, as WORKERS does for `npm start`. */
function workersOption(args: readonly string[]): number {
  const at = args.indexOf('--workers');
  if (at === -1) return 1;
  const value = args[at + 1] ?? '';
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 256) throw new ConfigError('--workers', `must be a whole number from 1 to 256, got "${value}"`);
  return Number(value);
}

/** The demo accounts and gates, written before the service starts (whichever process serves). */
async function seededDemoCredentials(config: AppConfig): Promise<string[]> {
  const dataSource = await new DataSource(dataSourceOptions({ database: { ...config.database, poolSize: 1 } })).initialize();
  try {
    return await seedDemoCredentials(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/** The run command starts servers on this machine only, on the port the URL names. */
function localTarget(value: string, variable: string, defaultPort: number): { url: URL; port: number } {
  const url = new URL(value);
  if (!['127.0.0.1', 'localhost'].includes(url.hostname)) {
    throw new ConfigError(variable, `points at ${url.hostname}; npm run local starts its servers on 127.0.0.1 only`);
  }
  return { url, port: url.port ? Number(url.port) : defaultPort };
}

/**
 * `.local/` in the project, unless Postgres' unprivileged user cannot reach it (a project kept
 * under /root, say): then a folder of its own under /var/lib.
 */
function chooseDataDir(): string {
  const configured = process.env.LOCAL_DATA_DIR?.trim();
  if (configured) return resolve(configured);
  const projectDir = resolve(__dirname, '..', '..', '.local');
  mkdirSync(projectDir, { recursive: true, mode: 0o755 });
  if (canEnter(serviceUser(), projectDir)) return projectDir;
  const fallback = join('/var/lib/lien-thong', createHash('sha256').update(projectDir).digest('hex').slice(0, 12));
  mkdirSync(fallback, { recursive: true, mode: 0o755 });
  return fallback;
}

runCommand(main);
