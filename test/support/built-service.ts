import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The project's folder, from the sources (ts-jest) or from a compiled copy under dist/. */
export const PROJECT_ROOT = projectRoot(__dirname);

/** The service as it ships, running in a process of its own. */
export interface BuiltService {
  readonly base: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** Ends it at once, as a crash would, and waits for the process to be gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful shutdown) and waits; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface StartBuiltServiceOptions {
  /** The service's environment, on top of this process's own (DATABASE_URL, REDIS_URL, …). */
  env: Record<string, string>;
  port: number;
  /** Each line the service writes to stdout (its JSON logs); without it stdout is ignored. */
  onLogLine?: (line: string) => void;
  readyTimeoutMs?: number;
}

/**
 * Compiles the service with tsc into `outDir`, with its Lua scripts beside the JavaScript, and
 * returns the path of its main.js. Compiled outside the project, it finds the project's packages
 * through NODE_PATH (see startBuiltService).
 */
export function buildService(outDir: string): string {
  const compiled = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir, '--sourceMap', 'false'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  });
  if (compiled.status !== 0) throw new Error(`the service does not compile:\n${compiled.stdout}${compiled.stderr}`);
  cpSync(join(PROJECT_ROOT, 'src'), outDir, { recursive: true, filter: (path) => !/\.[a-z]+$/.test(path) || path.endsWith('.lua') });
  return join(outDir, 'main.js');
}

/**
 * Runs `node main.js` on 127.0.0.1 and waits until /health/ready answers 200. Fails, with what the
 * process wrote to stderr, when it exits or is not ready in time (the process is then killed).
 */
export async function startBuiltService(mainJs: string, options: StartBuiltServiceOptions): Promise<BuiltService> {
  const child = spawn(process.execPath, [mainJs], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DOCS_ENABLED: 'false',
      // One process, unless the test asks for workers: kill() must end the service, not a supervisor.
      WORKERS: '1',
      ...options.env,
      NODE_PATH: join(PROJECT_ROOT, 'node_modules'),
      PORT: String(options.port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', options.onLogLine ? 'pipe' : 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  if (options.onLogLine) {
    const onLogLine = options.onLogLine;
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') onLogLine(line);
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const service: BuiltService = {
    base: `http://127.0.0.1:${options.port}`,
    port: options.port,
    child,
    stderr: () => stderr,
    kill: async () => {
      if (!gone()) child.kill('SIGKILL');
      await exited;
    },
    stop: async (timeoutMs = 15_000) => {
      if (gone()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    const status = await fetch(`${service.base}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return service;
    if (gone() || Date.now() > deadline) {
      await service.kill();
      throw new Error(`the built service ${gone() ? `exited (${child.exitCode ?? child.signalCode})` : 'was not ready in time'}; stderr:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function projectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'tsconfig.build.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no tsconfig.build.json above ${from}`);
  }
}
