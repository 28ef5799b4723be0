import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** Thrown when a local server cannot be found, installed or started; the message says what to do. */
export class LocalServiceError extends Error {
  override name = 'LocalServiceError';
}

export interface UnixUser {
  name: string;
  uid: number;
  gid: number;
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/** An executable by name: first in the given folders, then on PATH. */
export function findExecutable(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  return dirs.map((dir) => join(dir, name)).find((path) => existsSync(path));
}

/** Debian keeps server binaries in /usr/lib/postgresql/<major>/bin; the newest wins. */
export function postgresBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((version) => /^\d+$/.test(version))
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => join(root, version, 'bin'))
    .filter((dir) => existsSync(join(dir, 'postgres')));
}

let aptUpdated = false;

/**
 * Installs Debian packages when we may: as root, or with password-less sudo. Otherwise, or when
 * LOCAL_SERVICES_INSTALL=false, explains the command to run by hand.
 */
export function installPackages(packages: string[], why: string): void {
  const manual = `sudo apt-get install -y ${packages.join(' ')}`;
  if (process.env.LOCAL_SERVICES_INSTALL === 'false') {
    throw new LocalServiceError(`${why} is not installed. Install it with: ${manual}`);
  }
  if (!findExecutable('apt-get')) {
    throw new LocalServiceError(`${why} is not installed and this machine has no apt-get. Install ${packages.join(', ')} with your package manager.`);
  }
  const prefix = isRoot() ? [] : ['sudo', '-n'];
  if (!isRoot() && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status !== 0) {
    throw new LocalServiceError(`${why} is not installed and installing it needs root. Run: ${manual}`);
  }
  const run = (args: string[]) => {
    const [command, ...rest] = [...prefix, ...args];
    const result = spawnSync(command, rest, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0) throw new LocalServiceError(`"${args.join(' ')}" failed; install by hand with: ${manual}`);
  };
  process.stderr.write(`Installing ${packages.join(', ')} (${why}) with apt-get…\n`);
  if (!aptUpdated) {
    run(['apt-get', 'update', '-qq']);
    aptUpdated = true;
  }
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages]);
}

export function lookupUser(name: string): UnixUser | undefined {
  const result = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  if (result.status !== 0) return undefined;
  const [, , uid, gid] = result.stdout.trim().split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

/**
 * Postgres refuses to run as root. When we are root, servers run as the `postgres` system user
 * (created by Debian's package), or as a `lienthong` system user we create.
 */
export function serviceUser(): UnixUser | undefined {
  if (!isRoot()) return undefined;
  const existing = lookupUser('postgres') ?? lookupUser('lienthong');
  if (existing) return existing;
  const created = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'lienthong'], { stdio: 'inherit' });
  if (created.status !== 0) throw new LocalServiceError('Could not create the unprivileged user "lienthong" that Postgres must run as');
  return lookupUser('lienthong');
}

/** Whether `user` may write into `dir`; every parent folder must be traversable for that. */
export function canWrite(user: UnixUser | undefined, dir: string): boolean {
  const result = spawnSync('test', ['-w', dir, '-a', '-x', dir], user ? { uid: user.uid, gid: user.gid } : {});
  return result.status === 0;
}

/** Whether `user` may reach `dir` at all (every folder on the way traversable). */
export function canEnter(user: UnixUser | undefined, dir: string): boolean {
  const result = spawnSync('test', ['-x', dir], user ? { uid: user.uid, gid: user.gid } : {});
  return result.status === 0;
}

export function chownRecursive(user: UnixUser | undefined, path: string): void {
  if (!user) return;
  const result = spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, path], { stdio: 'inherit' });
  if (result.status !== 0) throw new LocalServiceError(`Could not hand ${path} to user ${user.name}`);
}

/** A TCP port nobody listens on right now, on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether something already listens on host:port. */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, host, () => server.close(() => resolve(false)));
  });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, failed?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failure = failed?.();
    if (failure) throw new LocalServiceError(`${what} did not start: ${failure}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new LocalServiceError(`${what} did not become ready within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
