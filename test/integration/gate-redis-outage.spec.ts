import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import request from 'supertest';
import { testAccount, type TestAccount } from '../support/auth';
import { gateAt, type GateDevice } from '../support/gate';
import { topUp } from '../support/money';
import { RestartableRedis } from '../support/restartable-redis';
import { startTestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

/** Keeps Redis busy for ARGV[1] ms in one Lua script: every other command waits behind it, as behind a stalled server. */
const BUSY_SCRIPT = `
  local start = redis.call('TIME')
  while true do
    local now = redis.call('TIME')
    if (now[1] - start[1]) * 1000000 + (now[2] - start[2]) > tonumber(ARGV[1]) * 1000 then return 'done' end
  end`;

/**
 * The gate path's Redis connection fails fast: a tap Redis cannot take is answered 503 (the validator
 * keeps it for its offline upload) and is not applied later behind the gate's back, and a tap Redis
 * does not answer within GATE_REDIS_TIMEOUT_MS is answered 503 too; its retry with the same tapId is safe.
 */
describe('the gate path while Redis is away or stalled', () => {
  // A Redis of its own, with its append-only file, to stop and start again.
  const redis = new RestartableRedis();
  let app: NestFastifyApplication;
  let passenger: TestAccount;
  let gate: GateDevice;
  let qr: string;

  beforeAll(async () => {
    await redis.start();
    app = await startTestApp({
      REDIS_URL: redis.url,
      GATE_TAP_STREAM: `gate:taps:outage-${randomUUID()}`,
      GATE_PERSISTER_ENABLED: 'false',
      GATE_REBUILD_ON_EMPTY_REDIS: 'false',
      GATE_REDIS_TIMEOUT_MS: '300',
    });
    passenger = await testAccount(app, 'passenger');
    await topUp(app, passenger.bearer, 100_000);
    gate = await gateAt(app, 'metro-2a', '2a-cat-linh');
    qr = (await request(app.getHttpServer()).get('/v1/me/qr').query({ format: 'text' }).set('Authorization', passenger.bearer).expect(200)).text;
  });

  afterAll(async () => {
    await app?.close();
    await redis.dispose();
  });

  const tap = (tapId: string, direction: 'entry' | 'exit') =>
    request(app.getHttpServer()).post('/v1/validations').set('Authorization', gate.bearer).send({ tapId, qr, direction });

  it('answers 503 while Redis is down, and never applies that tap once Redis is back', async () => {
    await redis.stop();
    const refused = await tap('outage-entry', 'entry');
    expect({ status: refused.status, code: (refused.body as { error?: { code: string } }).error?.code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    await redis.start();

    // Had the refused entry been queued for the reconnection, it would run first and this entry would be PASSBACK.
    const answered = await waitFor(async () => tap('after-outage-entry', 'entry'), (response) => response.status !== 503, 30_000);
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ verdict: 'accept', reason: 'OK' });
    expect((await tap('after-outage-exit', 'exit').expect(200)).body).toMatchObject({ verdict: 'accept' });
  }, 60_000);

  it('answers 503 when Redis stalls past the deadline; the retry with the same tapId gets the verdict Redis gave', async () => {
    const stall = createClient({ url: redis.url });
    await stall.connect();
    try {
      const stalled = stall.eval(BUSY_SCRIPT, { keys: [], arguments: ['1500'] });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const timedOut = await tap('stalled-entry', 'entry');
      expect({ status: timedOut.status, code: (timedOut.body as { error?: { code: string } }).error?.code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(await stalled).toBe('done');
    } finally {
      await stall.close();
    }
    // The command had reached Redis, which ran it after the stall: the retry gets that verdict, and changes nothing.
    const retried = (await tap('stalled-entry', 'entry').expect(200)).body as { verdict: string; journeyId?: string };
    expect(retried).toMatchObject({ verdict: 'accept', reason: 'OK' });
    expect((await tap('stalled-entry', 'entry').expect(200)).body).toEqual(retried);
    expect((await tap('another-entry', 'entry').expect(200)).body).toMatchObject({ verdict: 'reject', reason: 'PASSBACK' });
  }, 60_000);
});
