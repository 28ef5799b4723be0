import cluster, { type Worker } from 'node:cluster';
import { serveClusterMetrics } from './metrics/cluster-metrics';

const RESTART_DELAY_MS = 1_000;
const RESTART_DELAY_MAX_MS = 30_000;
/** A worker that lived this long before dying is restarted after the shortest delay again. */
const HEALTHY_AFTER_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;

export interface WorkerSupervisorOptions {
  count: number;
  /** The script workers run; by default this process's own (main.js). */
  exec?: string;
  say: (line: string) => void;
}

export interface WorkerSupervisor {
  /** Resolves once every worker first forked listens. */
  ready: Promise<void>;
  /** SIGTERM to every worker (each shuts down gracefully), waiting for them; SIGKILL after 30 s. */
  stop(): Promise<void>;
}

/**
 * The primary of `npm start` with WORKERS above 1: forks the workers, which share the port (node:cluster
 * hands each new connection to one of them), and starts a dead worker again, after a delay that grows
 * while workers keep dying young. It serves nothing itself. A worker whose primary dies exits at once
 * (node:cluster), so the copies never outlive their supervisor. /metrics, whichever worker answers
 * it, shows the sum over the workers (src/metrics/cluster-metrics.ts).
 */
export function superviseWorkers({ count, exec, say }: WorkerSupervisorOptions): WorkerSupervisor {
  if (exec) cluster.setupPrimary({ exec });
  serveClusterMetrics();
  let stopping = false;
  let delay = RESTART_DELAY_MS;
  const bornAt = new Map<Worker, number>();
  const fork = () => bornAt.set(cluster.fork(), Date.now());
  let listening = 0;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  cluster.on('listening', (worker) => {
    say(`worker ${worker.id} (pid ${worker.process.pid}) serving`);
    if (++listening === count) markReady();
  });
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (bornAt.get(worker) ?? 0);
    bornAt.delete(worker);
    if (stopping) return;
    if (lived >= HEALTHY_AFTER_MS) delay = RESTART_DELAY_MS;
    const wait = delay;
    delay = Math.min(delay * 2, RESTART_DELAY_MAX_MS);
    say(`worker ${worker.id} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`}) after ${Math.round(lived / 1000)} s; starting another in ${wait} ms`);
    setTimeout(() => stopping || fork(), wait);
  });
  for (let i = 0; i < count; i++) fork();

  return {
    ready,
    stop: async () => {
      stopping = true;
      const workers = [...bornAt.keys()];
      const exits = workers.map((worker) => new Promise<void>((resolve) => (worker.isDead() ? resolve() : worker.once('exit', () => resolve()))));
      for (const worker of workers) worker.process.kill('SIGTERM');
      const timer = setTimeout(() => workers.forEach((worker) => worker.isDead() || worker.process.kill('SIGKILL')), STOP_TIMEOUT_MS);
      await Promise.all(exits);
      clearTimeout(timer);
    },
  };
}
