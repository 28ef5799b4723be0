import { Agent, request } from 'node:http';

/** The same load generator for both servers: POSTs of JSON bodies over kept-alive connections. */
export interface Target {
  port: number;
  path: string;
  headers: Record<string, string>;
  /** The i-th request's body. */
  body: (index: number) => string;
}

export interface RateResult {
  sent: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

function post(agent: Agent, target: Target, body: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { agent, host: '127.0.0.1', port: target.port, path: target.path, method: 'POST', headers: { ...target.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode === 200));
      },
    );
    req.on('error', () => resolve(false));
    req.end(body);
  });
}

/** Closed model: `concurrency` requests always in flight for `seconds`; completed requests per second. */
export async function maxThroughput(target: Target, concurrency: number, seconds: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let completed = 0;
  const end = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < end) if (await post(agent, target, target.body(next++))) completed++;
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
          post(agent, target, target.body(firstIndex + sent)).then((ok) => {
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
