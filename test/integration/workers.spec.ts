import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/local-services/system';
import { buildService, startBuiltService, type BuiltService } from '../support/built-service';
import { waitFor } from '../support/wait';

interface LogLine {
  name?: string;
  msg?: string;
  pid?: number;
  context?: string;
  req?: { url?: string };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `npm start` with WORKERS=2 (src/main.ts, src/workers.ts): the primary and its workers, as production runs them. */
describe('the built service with two workers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lien-thong-workers-'));
  chmodSync(dir, 0o755);
  let service: BuiltService | undefined;

  afterAll(async () => {
    await service?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves from both, sums their metrics, restarts a dead one, passes the lease on, and stops them all on SIGTERM', async () => {
    const mainJs = buildService(join(dir, 'dist'));
    const lines: LogLine[] = [];
    service = await startBuiltService(mainJs, {
      env: { WORKERS: '2', LOG_LEVEL: 'info', LEADER_RETRY_SECONDS: '1', QR_DEV_KEY_FILE: join(dir, 'qr-dev-key.pem'), GATE_REBUILD_ON_EMPTY_REDIS: 'false' },
      port: await freePort(),
      onLogLine: (line) => {
        try {
          lines.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line
        }
      },
    });
    const { base, child } = service;
    const serving = () => lines.filter((line) => line.name === 'workers' && /serving/.test(line.msg ?? '')).map((line) => Number(/pid (\d+)/.exec(line.msg!)![1]));
    const leaders = () => lines.filter((line) => line.context === 'Leadership' && /leads/.test(line.msg ?? '')).map((line) => line.pid!);
    const workers = await waitFor(async () => serving(), (pids) => pids.length === 2);
    expect(child.pid).not.toBeUndefined();
    expect(workers).not.toContain(child.pid);

    // New connections are shared out between the workers; /metrics counts the requests of both.
    for (let i = 0; i < 20; i++) expect((await fetch(`${base}/v1/lines`, { headers: { connection: 'close' } })).status).toBe(200);
    const answeredBy = await waitFor(
      async () => new Set(lines.filter((line) => line.req?.url === '/v1/lines').map((line) => line.pid)),
      (pids) => pids.size === 2,
    );
    expect([...answeredBy].sort()).toEqual([...workers].sort());
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('http_requests_total{method="GET",route="/v1/lines",status="200"} 20');

    // One worker leads the singleton jobs; killed, it is replaced and the other takes the lease.
    const [leader] = await waitFor(async () => leaders(), (pids) => pids.length === 1);
    expect(workers).toContain(leader);
    process.kill(leader, 'SIGKILL');
    const [, third] = await waitFor(async () => serving().filter((pid) => pid !== leader), (pids) => pids.length === 2);
    const [, next] = await waitFor(async () => leaders(), (pids) => pids.length === 2);
    expect(next).not.toBe(leader);
    expect([...workers, third]).toContain(next);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);

    // SIGTERM to the primary: each worker shuts down gracefully, then the primary exits with 0.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(serving().filter(alive)).toEqual([]);
    expect(lines.filter((line) => line.context === 'Leadership' && /gave .* up/.test(line.msg ?? '')).map((line) => line.pid)).toEqual([next]);
  }, 180_000);
});
