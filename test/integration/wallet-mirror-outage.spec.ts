import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { AccountGateState } from '../../src/gate-state/account-gate-state';
import { testAccount } from '../support/auth';
import { topUp, walletBalance } from '../support/money';
import { RestartableRedis } from '../support/restartable-redis';
import { startTestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

/**
 * Found by the fault drill: with Redis down for longer than a command waits (node-redis gives up after
 * 5 s), the gates' balance missed the top-ups and purchases committed meanwhile, for good. A top-up
 * must reach it once Redis is back, and only once; a purchase from the wallet waits for Redis (503),
 * since only the gates' balance knows the fares not yet in Postgres.
 */
describe("the gates' wallet balance across a Redis outage longer than a command waits", () => {
  // A Redis of its own, with its append-only file, to stop and start again.
  const redis = new RestartableRedis();
  let app: NestFastifyApplication;

  beforeAll(async () => {
    await redis.start();
    app = await startTestApp({ REDIS_URL: redis.url, GATE_TAP_STREAM: `gate:taps:mirror-${randomUUID()}`, GATE_PERSISTER_ENABLED: 'false', GATE_REBUILD_ON_EMPTY_REDIS: 'false' });
  });

  afterAll(async () => {
    await app?.close();
    await redis.dispose();
  });

  it('takes a top-up made meanwhile once Redis is back, once; a purchase from the wallet waits for Redis', async () => {
    const http = () => request(app.getHttpServer());
    const passenger = await testAccount(app, 'passenger');
    await topUp(app, passenger.bearer, 100_000);
    const gateState = app.get(AccountGateState);
    expect(await gateState.balance(passenger.id)).toBe(100_000);

    await redis.stop();
    const orderKey = randomUUID();
    const buy = () => http().post('/v1/orders').set('Authorization', passenger.bearer).set('Idempotency-Key', orderKey).send({ items: [{ productId: 'metro-day' }], payWith: 'wallet' });
    expect((await buy().expect(503)).body.error.code).toBe('SERVICE_UNAVAILABLE');
    const payment = await http().post('/v1/wallet/top-ups').set('Authorization', passenger.bearer).set('Idempotency-Key', randomUUID()).send({ amount: 50_000 }).expect(201);
    const completed = await http().post(`/v1/payments/sandbox/${payment.body.id}/complete`).send({}).expect(200);
    expect(completed.body).toMatchObject({ webhookStatus: 200, webhookResponse: { applied: true } });
    expect(await walletBalance(app, passenger.bearer)).toBe(150_000);
    await redis.start();

    await waitFor(() => gateState.balance(passenger.id), (balance) => balance === 150_000, 30_000);
    expect(await gateState.applyMovement(passenger.id, `top_up:${payment.body.id}`, 50_000)).toBe(false);
    expect(await gateState.balance(passenger.id)).toBe(150_000);
    const order = await buy().expect(201);
    expect(await gateState.balance(passenger.id)).toBe(150_000 - order.body.total);
  }, 90_000);
});
