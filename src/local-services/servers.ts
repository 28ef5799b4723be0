import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
  /** The application's role: it logs in, owns the database's public schema and nothing else (no superuser). */
  user: string;
  password: string;
  database: string;
  /** Tests make databases of their own (the security sweep's, the settlement checks'): CREATEDB, still no superuser. */
  appRoleMayCreateDatabases?: boolean;
  /** Throwaway instance for tests: durability off for speed. */
  ephemeral?: boolean;
  /** The variable to name when the port is taken. */
  portVariable?: string;
}

export interface RedisOptions {
  dataDir: string;
  port: number;
  /** Required of every client (requirepass); the URL returned carries it. */
  password?: string;
  /** Throwaway instance for tests: no AOF. */
  ephemeral?: boolean;
  portVariable?: string;
  /** A node of a Redis Cluster, talking to the others on `busPort` (its slots and peers in `nodes.conf` of its folder). */
  cluster?: { busPort: number };
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/** The cluster's superuser: it only sets up the application's role and database, at each start. */
export const ADMIN_ROLE = 'postgres';

/**
 * Settings of every server we start. Errors are logged tersely: a duplicate key's DETAIL line
 * ("Key (email)=(…) already exists") and a failed statement's bound values would write people's
 * data into the server log.
 */
const POSTGRES_SETTINGS = [
  'listen_addresses=127.0.0.1',
  'unix_socket_directories=',
  'max_connections=200',
  'log_error_verbosity=terse',
  'log_min_error_statement=panic',
  'log_parameter_max_length=0',
  'log_parameter_max_length_on_error=0',
];

export async function startPostgres(options: PostgresOptions): Promise<RunningServer> {
  const binDir = postgresBinary();
  const owner = serviceUser();
  const { dataDir } = options;
  const logFile = join(dataDir, 'server.log');
  // Beside the data folder (initdb wants it empty), readable by us only.
  const adminPasswordFile = `${dataDir}.admin-password`;
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    writeFileSync(adminPasswordFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
    initCluster(binDir, owner, { dataDir, user: ADMIN_ROLE, password: readFileSync(adminPasswordFile, 'utf8') });
  }
  await stopOrphan(join(dataDir, 'postmaster.pid'), 'SIGINT');
  await refuseTakenPort(options.port, 'Postgres', options.portVariable ?? 'DATABASE_URL');

  const settings = [...POSTGRES_SETTINGS, ...(options.ephemeral ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : [])];
  const child = launch(join(binDir, 'postgres'), ['-D', dataDir, '-p', String(options.port), ...settings.flatMap((s) => ['-c', s])], logFile, owner);
  const server = `127.0.0.1:${options.port}`;
  const appUrl = `postgres://${encodeURIComponent(options.user)}:${encodeURIComponent(options.password)}@${server}`;
  const adminUrl = () =>
    existsSync(adminPasswordFile) ? `postgres://${ADMIN_ROLE}:${encodeURIComponent(readFileSync(adminPasswordFile, 'utf8').trim())}@${server}` : appUrl;
  await waitFor('Postgres', START_TIMEOUT_MS, () => canConnect(`${adminUrl()}/postgres`), exitedEarly(child, logFile));
  // A cluster made before the application had a role of its own: its superuser is the application's role.
  const madeBefore = !existsSync(adminPasswordFile);
  if (madeBefore) await createAdminRole(`${appUrl}/postgres`, adminPasswordFile);
  try {
    await provisionApplication(adminUrl(), options);
  } catch (error) {
    // Postgres 16 and later keep the bootstrap superuser a superuser: such a cluster stays as it was.
    if (!madeBefore) throw error;
    process.stderr.write(
      `Warning: the role ${options.user} made this cluster and stays its superuser (${(error as Error).message}). ` +
        `Remove ${dataDir} (its data is lost) to start afresh with a role that owns only its schema.\n`,
    );
  }
  return { url: `${appUrl}/${encodeURIComponent(options.database)}`, pid: child.pid!, stop: () => stopProcess(child.pid!, 'SIGINT', 'Postgres') };
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
    ...(options.cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', join(dataDir, 'nodes.conf'), '--cluster-port', String(options.cluster.busPort)] : []),
  ];
  const logFile = join(dataDir, 'redis.log');
  // The password reaches Redis on its standard input (a config file read from "-"), not on its
  // command line, which every local user can read in the process list.
  const child = launch(binary, ['-', ...args], logFile, undefined, options.password === undefined ? '' : `requirepass "${options.password.replace(/["\\]/g, '\\$&')}"\n`);
  await waitFor('Redis', START_TIMEOUT_MS, () => redisAnswers(options.port, options.password), exitedEarly(child, logFile));
  const credentials = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  return { url: `redis://${credentials}127.0.0.1:${options.port}`, pid: child.pid!, stop: () => stopProcess(child.pid!, 'SIGTERM', 'Redis') };
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

function initCluster(binDir: string, owner: UnixUser | undefined, options: { dataDir: string; user: string; password: string }): void {
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

function launch(command: string, args: string[], logFile: string, owner?: UnixUser, input?: string): ChildProcess {
  const log = openSync(logFile, 'a');
  if (owner) chownRecursive(owner, logFile);
  // Own process group: Ctrl-C reaches only our process, which then stops the servers in order.
  const child = spawn(command, args, {
    detached: true,
    stdio: [input === undefined ? 'ignore' : 'pipe', log, log],
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
  });
  if (input !== undefined) child.stdin?.end(input);
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

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const identifier = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** Gives a cluster whose superuser was the application's role a superuser of its own, whose password is kept in `passwordFile`. */
async function createAdminRole(appAdminUrl: string, passwordFile: string): Promise<void> {
  const password = randomBytes(24).toString('base64url');
  await withClient(appAdminUrl, async (client) => {
    const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [ADMIN_ROLE])).rowCount !== 0;
    const verb = exists ? 'ALTER' : 'CREATE';
    await client.query(`${verb} ROLE ${identifier(ADMIN_ROLE)} WITH SUPERUSER LOGIN PASSWORD ${literal(password)}`);
  });
  writeFileSync(passwordFile, password, { mode: 0o600 });
}

/**
 * The application's role and database, as the superuser makes them at every start (idempotent):
 * a role that logs in and is no superuser, may create no roles (nor databases, outside tests), and
 * owns the public schema of its database, which the superuser owns and only it may connect to.
 */
export async function provisionApplication(
  adminUrl: string,
  options: Pick<PostgresOptions, 'user' | 'password' | 'database' | 'appRoleMayCreateDatabases'>,
): Promise<void> {
  const role = identifier(options.user);
  const database = identifier(options.database);
  await withClient(`${adminUrl}/postgres`, async (client) => {
    const roleExists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [options.user])).rowCount !== 0;
    if (!roleExists) await client.query(`CREATE ROLE ${role}`);
    const createDb = options.appRoleMayCreateDatabases ? 'CREATEDB' : 'NOCREATEDB';
    await client.query(`ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS ${createDb} PASSWORD ${literal(options.password)}`);
    const databaseExists = (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database])).rowCount !== 0;
    if (databaseExists) await client.query(`ALTER DATABASE ${database} OWNER TO ${identifier(ADMIN_ROLE)}`);
    else await client.query(`CREATE DATABASE ${database} OWNER ${identifier(ADMIN_ROLE)}`);
    await client.query(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC`);
    await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${database} TO ${role}`);
  });
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${encodeURIComponent(options.database)}`;
  await withClient(databaseUrl.toString(), async (client) => {
    await client.query(`ALTER SCHEMA public OWNER TO ${role}`);
    await client.query(`REVOKE ALL ON SCHEMA public FROM PUBLIC`);
  });
}

function redisAnswers(port: number, password: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(1_000, () => socket.destroy());
    // AUTH as an inline command would break on spaces; RESP arrays carry any password.
    const command = (...parts: string[]) => `*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join('')}`;
    socket.on('connect', () => socket.write(password === undefined ? command('PING') : command('AUTH', password) + command('PING')));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('+PONG\r\n') || reply.startsWith('-')) socket.end();
    });
    socket.on('close', () => resolve(reply.includes('+PONG')));
    socket.on('error', () => resolve(false));
  });
}
