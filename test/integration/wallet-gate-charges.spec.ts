import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { AccountGateState } from '../../src/gate-state/account-gate-state';
import { testAccount } from '../support/auth';
import { gateAt, tap, tapStreams } from '../support/gate';
import { expectLedgerBalanced, topUp, walletBalance } from '../support/money';
import { startTestApp } from '../support/test-app';

/**
 * Found by the fault drill: while the tap persister lags (always a little; the whole outage while
 * Postgres is down) the wallet in Postgres still holds fares the gates have charged. A purchase from
 * the wallet must not spend them too, or the rider ends up owing fares without ever being offline.
 */
describe('a purchase from the wallet while fares charged at the gates are not in Postgres yet', () => {
  // A stream of its own and no persister: the fare stays unwritten for as long as the test needs.
  const streamKey = `gate:taps:gate-charges-${randomUUID()}`;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startTestApp({ GATE_PERSISTER_ENABLED: 'false', GATE_TAP_STREAM: streamKey });
  });

  afterAll(async () => {
    await tapStreams.delete(app);
    await app.close();
  });

  it('may spend only what is left after those fares', async () => {
    const passenger = await testAccount(app, 'passenger');
    await topUp(app, passenger.bearer, 25_000);
    const [laThanh, haDong] = await Promise.all([gateAt(app, 'metro-2a', '2a-la-thanh'), gateAt(app, 'metro-2a', '2a-ha-dong')]);
    const qr = (await request(app.getHttpServer()).get('/v1/me/qr').query({ format: 'text' }).set('Authorization', passenger.bearer).expect(200)).text;
    await tap(app, laThanh, { qr, direction: 'entry' });
    const { fare } = await tap(app, haDong, { qr, direction: 'exit' });
    expect(fare).toBeGreaterThan(25_000 / 2);
    expect(await walletBalance(app, passenger.bearer)).toBe(25_000);

    const buy = (destinationStationId: string) =>
      request(app.getHttpServer())
        .post('/v1/orders')
        .set('Authorization', passenger.bearer)
        .set('Idempotency-Key', randomUUID())
        .send({ items: [{ productId: 'metro-single', originStationId: '2a-la-thanh', destinationStationId }], payWith: 'wallet' });
    // The same trip again costs that fare: the wallet in Postgres could pay it twice, the rider cannot.
    const refused = await buy('2a-ha-dong').expect(409);
    expect(refused.body.error.code).toBe('INSUFFICIENT_BALANCE');
    const bought = await buy('2a-thai-ha').expect(201);

    expect(await walletBalance(app, passenger.bearer)).toBe(25_000 - bought.body.total);
    expect(await app.get(AccountGateState).balance(passenger.id)).toBe(25_000 - fare! - bought.body.total);
    await expectLedgerBalanced(app);
  });
});
