import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'lien-thong:metrics-request';
const ANSWER = 'lien-thong:metrics-answer';
const ANSWER_TIMEOUT_MS = 6_000;

interface MetricsRequest {
  type: typeof REQUEST;
  id: string;
}
interface MetricsAnswer {
  type: typeof ANSWER;
  id: string;
  text?: string;
  error?: string;
}

/**
 * In the primary of several workers (src/workers.ts): a worker asked for /metrics gets the figures of
 * every worker, gathered over IPC and merged by prom-client's AggregatorRegistry (counters and
 * histograms summed; of Node's own metrics, each by the rule prom-client gives it).
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: Partial<MetricsRequest>) => {
    if (message?.type !== REQUEST || typeof message.id !== 'string') return;
    const id = message.id;
    aggregator.clusterMetrics().then(
      (text) => worker.isConnected() && worker.send({ type: ANSWER, id, text } satisfies MetricsAnswer),
      (error: Error) => worker.isConnected() && worker.send({ type: ANSWER, id, error: error.message } satisfies MetricsAnswer),
    );
  });
}

/**
 * In a worker: lets the primary read `registry`, and returns how to read every worker's metrics
 * through the primary. Undefined in a process of its own (WORKERS=1, tests), which shows its own.
 */
export function clusterMetricsReader(registry: Registry): (() => Promise<string>) | undefined {
  if (!cluster.isWorker || !process.send) return undefined;
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs prom-client's answer to the primary's requests
  const waiting = new Map<string, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  process.on('message', (message: Partial<MetricsAnswer>) => {
    if (message?.type !== ANSWER || typeof message.id !== 'string') return;
    const request = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined || message.text === undefined) request?.reject(new Error(`the workers' metrics could not be gathered: ${message.error}`));
    else request?.resolve(message.text);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = randomUUID();
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('the primary did not answer with the workers\' metrics'));
      }, ANSWER_TIMEOUT_MS);
      waiting.set(id, {
        resolve: (text) => (clearTimeout(timer), resolve(text)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      process.send!({ type: REQUEST, id } satisfies MetricsRequest);
    });
}
