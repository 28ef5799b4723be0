import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import {
  LocalServiceError,
  UnixUser,
  canWrite,
  chownRecursive,
  findExecutable,
  installPackages,
  pidAlive,
  portInUse,
  postgresBinDirs,
  serviceUser,
  waitFor,
} from './system';

/** A server this process started; `stop` shuts it down cleanly and waits for it. */
export interface RunningServer {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  dataDir: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Throwaway instance for tests: durability off for speed. */
  ephemeral?: boolean;
  /** The variable to name when the port is taken. */
  portVariable?: string;
}

export interface RedisOptions {
  dataDir: string;
  port: number;
  /** Throwaway instance for tests: no AOF. */
  ephemeral?: boolean;
  portVariable?: string;
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export async function startPostgres(options: PostgresOptions): Promise<RunningServer> {
  const binDir = postgresBinary();
  const owner = serviceUser();
  const { dataDir } = options;
  const logFile = join(dataDir, 'server.log');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) initCluster(binDir, owner, options);
  await stopOrphan(join(dataDir, 'postmaster.pid'), 'SIGINT');
  await refuseTakenPort(options.port, 'Postgres', options.portVariable ?? 'DATABASE_URL');

  const settings = [
    'listen_addresses=127.0.0.1',
    'unix_socket_directories=',
    'max_connections=200',
    ...(options.ephemeral ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
  ];
  const child = launch(join(binDir, 'postgres'), ['-D', dataDir, '-p', String(options.port), ...settings.flatMap((s) => ['-c', s])], logFile, owner);
  const url = `postgres://${encodeURIComponent(options.user)}:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}`;
  await waitFor('Postgres', START_TIMEOUT_MS, () => canConnect(`${url}/postgres`), exitedEarly(child, logFile));
  await createDatabase(`${url}/postgres`, options.database);
  return { url: `${url}/${encodeURIComponent(options.database)}`, pid: child.pid!, stop: () => stopProcess(child.pid!, 'SIGINT', 'Postgres') };
}

export async function startRedis(options: RedisOptions): Promise<RunningServer> {
  const binary = redisBinary();
  const { dataDir } = options;
  mkdirSync(dataDir, { recursive: true });
  const pidFile = join(dataDir, 'redis.pid');
  await stopOrphan(pidFile, 'SIGTERM');
  await refuseTakenPort(options.port, 'Redis', options.portVariable ?? 'REDIS_URL');
  const durability = options.ephemeral
    ? ['--appendonly', 'no']
    : ['--appendonly', 'yes', '--appendfsync', 'everysec'];
  const args = [
    '--port', String(options.port), '--bind', '127.0.0.1', '--protected-mode', 'yes',
    '--dir', dataDir, '--daemonize', 'no', '--pidfile', pidFile, '--save', '',
    ...durability,
  ];
  const logFile = join(dataDir, 'redis.log');
  const child = launch(binary, args, logFile);
  await waitFor('Redis', START_TIMEOUT_MS, () => redisAnswers(options.port), exitedEarly(child, logFile));
  return { url: `redis://127.0.0.1:${options.port}`, pid: child.pid!, stop: () => stopProcess(child.pid!, 'SIGTERM', 'Redis') };
}

/** The folder holding initdb and postgres; Debian's newest version first. */
function postgresBinary(): string {
  return findOrInstall(
    () => [...postgresBinDirs(), ...[findExecutable('initdb')].filter(Boolean).map((p) => dirname(p!))].find((dir) => existsSync(join(dir, 'initdb'))),
    'postgresql',
    'PostgreSQL',
  );
}

function redisBinary(): string {
  return findOrInstall(() => findExecutable('redis-server', ['/usr/bin', '/usr/local/bin']), 'redis-server', 'Redis');
}

function findOrInstall(find: () => string | undefined, debianPackage: string, what: string): string {
  const found = find();
  if (found) return found;
  installPackages([debianPackage], what);
  const installed = find();
  if (!installed) throw new LocalServiceError(`${what} was installed from ${debianPackage} but its binaries were not found`);
  return installed;
}

function initCluster(binDir: string, owner: UnixUser | undefined, options: PostgresOptions): void {
  const { dataDir } = options;
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chownRecursive(owner, dataDir);
  if (!canWrite(owner, dataDir)) {
    throw new LocalServiceError(
      `Postgres runs as user "${owner?.name ?? 'you'}", who cannot reach ${dataDir}. Choose another folder with LOCAL_DATA_DIR (for example /var/lib/lien-thong).`,
    );
  }
  // Outside the data folder (initdb wants it empty), readable by the server's user only.
  const passwordFile = `${dataDir}.pwfile`;
  writeFileSync(passwordFile, `${options.password}\n`, { mode: 0o600 });
  chownRecursive(owner, passwordFile);
  try {
    const result = spawnSync(
      join(binDir, 'initdb'),
      ['-D', dataDir, '-U', options.user, '--auth=scram-sha-256', `--pwfile=${passwordFile}`, '-E', 'UTF8', '--no-locale'],
      { encoding: 'utf8', ...(owner ? { uid: owner.uid, gid: owner.gid } : {}) },
    );
    if (result.status !== 0) throw new LocalServiceError(`initdb failed:\n${result.stderr || result.stdout}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

function launch(command: string, args: string[], logFile: string, owner?: UnixUser): ChildProcess {
  const log = openSync(logFile, 'a');
  if (owner) chownRecursive(owner, logFile);
  // Own process group: Ctrl-C reaches only our process, which then stops the servers in order.
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', log, log],
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
  });
  child.unref();
  if (child.pid === undefined) throw new LocalServiceError(`Could not start ${command}`);
  return child;
}

function exitedEarly(child: ChildProcess, logFile: string): () => string | undefined {
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  return () => (exited === undefined ? undefined : `exited with code ${exited}; last lines of ${logFile}:\n${tail(logFile)}`);
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A server left running by a run that was killed: stop it before starting ours on the same data. */
async function stopOrphan(pidFile: string, signal: NodeJS.Signals): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) await stopProcess(pid, signal, `left-over server (pid ${pid})`);
}

async function refuseTakenPort(port: number, what: string, variable: string): Promise<void> {
  if (await portInUse(port)) {
    throw new LocalServiceError(`${what} cannot listen on port ${port}: something else already does. Set ${variable} to another port.`);
  }
}

async function stopProcess(pid: number, signal: NodeJS.Signals, what: string): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return; // already gone
  }
  await waitFor(`${what} shutdown`, STOP_TIMEOUT_MS, () => Promise.resolve(!pidAlive(pid))).catch(() => {
    process.kill(pid, 'SIGKILL');
  });
}

async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function createDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) socket.end();
    });
    socket.on('close', () => resolve(reply.startsWith('+PONG')));
    socket.on('error', () => resolve(false));
  });
}
