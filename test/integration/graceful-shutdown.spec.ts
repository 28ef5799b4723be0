import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/local-services/system';
import { buildService, startBuiltService, type BuiltService } from '../support/built-service';

const IN_FLIGHT = 8;

/**
 * A rolling restart sends SIGTERM: requests in flight are answered before Postgres and Redis close,
 * and kept-alive connections do not hold the process until their clients' keep-alive timeout.
 */
describe('the built service on SIGTERM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lien-thong-shutdown-'));
  chmodSync(dir, 0o755);
  let service: BuiltService | undefined;

  afterAll(async () => {
    await service?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every request in flight, then exits at once with 0', async () => {
    const mainJs = buildService(join(dir, 'dist'));
    service = await startBuiltService(mainJs, { env: { QR_DEV_KEY_FILE: join(dir, 'qr-dev-key.pem'), GATE_REBUILD_ON_EMPTY_REDIS: 'false', LOGIN_ATTEMPTS_PER_ADDRESS: '100000' }, port: await freePort() });
    const { port, child } = service;
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    // Logins check an argon2 hash: slow enough to be in flight when the signal lands.
    const login = (index: number) =>
      new Promise<number | string>((resolve) => {
        const body = JSON.stringify({ email: `nobody-${index}@test.lienthong.local`, password: 'not the password 123' });
        const req = request({ agent, host: '127.0.0.1', port, path: '/v1/auth/login', method: 'POST', headers: { 'content-type': 'application/json' } }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        });
        req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        req.end(body);
      });
    await Promise.all(Array.from({ length: IN_FLIGHT }, (_, index) => login(index)));

    const answers = Array.from({ length: IN_FLIGHT }, (_, index) => login(IN_FLIGHT + index));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const signalled = Date.now();
    child.kill('SIGTERM');

    expect(await Promise.all(answers)).toEqual(Array.from({ length: IN_FLIGHT }, () => 401));
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(10_000);
    agent.destroy();
  }, 120_000);
});
