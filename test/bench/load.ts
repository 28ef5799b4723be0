import { Agent, request } from 'node:http';

/** The same load generator for every server: POSTs of JSON bodies over kept-alive connections. */
export interface Target {
  port: number;
  path: string;
  headers: Record<string, string>;
  /** The i-th request's body. */
  body: (index: number) => string;
  /** The i-th request's own headers on top of `headers` (a rider's token, an Idempotency-Key). */
  headersOf?: (index: number) => Record<string, string>;
  /** The status of a success (default 200). */
  okStatus?: number;
  /** Hands over every answer's status and body (0 and '' when the request failed); without it bodies are discarded unread. */
  onAnswer?: (index: number, status: number, body: string) => void;
}

export interface RateResult {
  sent: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

function post(agent: Agent, target: Target, index: number): Promise<boolean> {
  const body = target.body(index);
  const { onAnswer } = target;
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port: target.port,
        path: target.path,
        method: 'POST',
        headers: { ...target.headers, ...target.headersOf?.(index), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const ok = response.statusCode === (target.okStatus ?? 200);
        if (!onAnswer) {
          response.resume();
          response.on('end', () => resolve(ok));
          return;
        }
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          onAnswer(index, response.statusCode ?? 0, text);
          resolve(ok);
        });
      },
    );
    req.on('error', () => {
      onAnswer?.(index, 0, '');
      resolve(false);
    });
    req.end(body);
  });
}

/** Closed model: `concurrency` requests always in flight for `seconds`; successful requests per second. */
export async function maxThroughput(target: Target, concurrency: number, seconds: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let completed = 0;
  const end = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < end) if (await post(agent, target, next++)) completed++;
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return completed / ((Date.now() - started) / 1000);
}

/**
 * Open model: requests are sent on a fixed schedule whatever the answers do, and each latency is
 * measured from the time the request was scheduled to be sent (no coordinated omission).
 */
export async function fixedRate(target: Target, perSecond: number, seconds: number, firstIndex: number): Promise<RateResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const total = perSecond * seconds;
  const latencies: number[] = [];
  let failed = 0;
  const pending: Array<Promise<void>> = [];
  const start = performance.now() + 10;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / perSecond <= now) {
        const scheduled = start + (sent * 1000) / perSecond;
        pending.push(
          post(agent, target, firstIndex + sent).then((ok) => {
            if (ok) latencies.push(performance.now() - scheduled);
            else failed++;
          }),
        );
        sent++;
      }
      if (sent < total) setTimeout(tick, 0);
      else resolve();
    };
    tick();
  });
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { sent, failed, p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1] ?? NaN };
}
