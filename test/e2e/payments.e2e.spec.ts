import { generateKeyPairSync, randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config';
import { webhookSignature } from '../../src/payments/sandbox-gateway';
import { PaymentSettlement } from '../../src/payment-outcomes/payment-settlement';
import { testAccount, type TestAccount } from '../support/auth';
import { expectError, useTestApp } from '../support/http';
import { expectLedgerBalanced, walletBalance } from '../support/money';
import { startTestApp } from '../support/test-app';

interface Payment {
  id: string;
  status: string;
  amount: number;
  redirectUrl: string;
}

describe('wallet top-ups through the development gateway', () => {
  const { app, http } = useTestApp();
  const secret = loadConfig({ NODE_ENV: 'test' }).payments.webhookSecret;
  let passenger: TestAccount;

  beforeEach(async () => {
    passenger = await testAccount(app(), 'passenger');
  });
  afterEach(async () => {
    await expectLedgerBalanced(app());
  });

  const createTopUp = async (amount: number, key: string = randomUUID()): Promise<Payment> =>
    (await http().post('/v1/wallet/top-ups').set('Authorization', passenger.bearer).set('Idempotency-Key', key).send({ amount }).expect(201)).body as Payment;

  const callback = (payment: Payment, overrides: Record<string, unknown> = {}) =>
    JSON.stringify({ paymentId: payment.id, gatewayReference: `ref-${payment.id}`, amount: payment.amount, currency: 'VND', outcome: 'succeeded', ...overrides });

  const postWebhook = (body: string, signature = webhookSignature(secret, body)) =>
    http().post('/v1/payments/webhook').set('Content-Type', 'application/json').set('X-Signature', signature).send(body);

  const paymentStatus = async (id: string): Promise<string> =>
    (await app().get(DataSource).query<Array<{ status: string }>>('SELECT status FROM payments WHERE id = $1', [id]))[0].status;

  it('creates a pending payment and credits the wallet when the gateway confirms it', async () => {
    const payment = await createTopUp(150_000);
    expect(payment).toMatchObject({ status: 'pending', amount: 150_000, currency: 'VND', purpose: 'top_up', gateway: 'sandbox' });
    expect(payment.redirectUrl).toMatch(new RegExp(`/v1/payments/sandbox/${payment.id}/complete$`));
    expect(await walletBalance(app(), passenger.bearer)).toBe(0);

    const completed = await http().post(`/v1/payments/sandbox/${payment.id}/complete`).send({}).expect(200);
    expect(completed.body).toEqual({ webhookStatus: 200, webhookResponse: { paymentId: payment.id, status: 'succeeded', applied: true } });
    expect(await walletBalance(app(), passenger.bearer)).toBe(150_000);
    const profile = await http().get('/v1/me').set('Authorization', passenger.bearer).expect(200);
    expect(profile.body).toMatchObject({ balance: 150_000, currency: 'VND' });

    // The gateway retries its callback: answered again, credited once.
    const again = await http().post(`/v1/payments/sandbox/${payment.id}/complete`).send({}).expect(200);
    expect(again.body).toMatchObject({ webhookStatus: 200, webhookResponse: { status: 'succeeded', applied: false } });
    expect(await walletBalance(app(), passenger.bearer)).toBe(150_000);
  });

  it('requires an Idempotency-Key, replays the first response for the same body and refuses another body', async () => {
    expectError(await http().post('/v1/wallet/top-ups').set('Authorization', passenger.bearer).send({ amount: 50_000 }), 400, 'IDEMPOTENCY_KEY_REQUIRED');
    const key = randomUUID();
    const first = await createTopUp(50_000, key);
    const second = await createTopUp(50_000, key);
    expect(second).toEqual(first);
    const other = await http().post('/v1/wallet/top-ups').set('Authorization', passenger.bearer).set('Idempotency-Key', key).send({ amount: 60_000 });
    expectError(other, 422, 'IDEMPOTENCY_KEY_REUSED');
    const count = await app().get(DataSource).query<Array<{ n: string }>>('SELECT count(*) AS n FROM payments WHERE account_id = $1', [passenger.id]);
    expect(count[0].n).toBe('1');
    // Keys are per caller: another passenger may use the same one.
    const stranger = await testAccount(app(), 'passenger');
    await http().post('/v1/wallet/top-ups').set('Authorization', stranger.bearer).set('Idempotency-Key', key).send({ amount: 60_000 }).expect(201);
  });

  it('ignores a forged callback: 401 and nothing credited', async () => {
    const payment = await createTopUp(100_000);
    const body = callback(payment);
    expectError(await postWebhook(body, webhookSignature('not-the-secret-not-the-secret-not-the-secret', body)), 401, 'INVALID_SIGNATURE');
    expectError(await postWebhook(body, 'garbage'), 401, 'INVALID_SIGNATURE');
    expectError(await http().post('/v1/payments/webhook').set('Content-Type', 'application/json').send(body), 401, 'INVALID_SIGNATURE');
    // A valid signature over another body does not cover this one.
    const tampered = callback(payment, { amount: 100_000, gatewayReference: 'other' });
    expectError(await postWebhook(tampered, webhookSignature(secret, body)), 401, 'INVALID_SIGNATURE');
    expect(await paymentStatus(payment.id)).toBe('pending');
    expect(await walletBalance(app(), passenger.bearer)).toBe(0);
  });

  it('refuses a callback for another amount: 422 and the payment stays pending', async () => {
    const payment = await createTopUp(100_000);
    expectError(await postWebhook(callback(payment, { amount: 1_000_000 })), 422, 'AMOUNT_MISMATCH');
    expectError(await postWebhook(callback(payment, { currency: 'USD' })), 422, 'AMOUNT_MISMATCH');
    expect(await paymentStatus(payment.id)).toBe('pending');
    expect(await walletBalance(app(), passenger.bearer)).toBe(0);
    // The right callback still works afterwards.
    await postWebhook(callback(payment)).expect(200);
    expect(await walletBalance(app(), passenger.bearer)).toBe(100_000);
  });

  it('applies a replayed callback once, and refuses a different late one', async () => {
    const payment = await createTopUp(70_000);
    const body = callback(payment);
    const responses = await Promise.all(Array.from({ length: 5 }, () => postWebhook(body)));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    expect(responses.filter((response) => (response.body as { applied: boolean }).applied)).toHaveLength(1);
    expect(await walletBalance(app(), passenger.bearer)).toBe(70_000);
    expectError(await postWebhook(callback(payment, { outcome: 'failed' })), 409, 'PAYMENT_NOT_PENDING');
    expectError(await postWebhook(callback(payment, { gatewayReference: 'a-second-charge' })), 409, 'PAYMENT_NOT_PENDING');
    expect(await walletBalance(app(), passenger.bearer)).toBe(70_000);
  });

  it('records a failed payment without credit, and refuses a success after it', async () => {
    const payment = await createTopUp(40_000);
    const failed = await http().post(`/v1/payments/sandbox/${payment.id}/complete`).send({ outcome: 'failed' }).expect(200);
    expect(failed.body).toMatchObject({ webhookStatus: 200, webhookResponse: { status: 'failed', applied: true } });
    expectError(await postWebhook(callback(payment)), 409, 'PAYMENT_NOT_PENDING');
    expect(await walletBalance(app(), passenger.bearer)).toBe(0);
  });

  it('expires pending payments: a late callback changes nothing', async () => {
    const late = await createTopUp(30_000);
    const swept = await createTopUp(30_000);
    await app().get(DataSource).query(`UPDATE payments SET expires_at = now() - interval '1 second' WHERE id = ANY($1)`, [[late.id, swept.id]]);
    expectError(await postWebhook(callback(late)), 409, 'PAYMENT_NOT_PENDING');
    expect(await paymentStatus(late.id)).toBe('expired');
    expect(await app().get(PaymentSettlement).expireOverdue()).toBeGreaterThanOrEqual(1);
    expect(await paymentStatus(swept.id)).toBe('expired');
    expectError(await postWebhook(callback(swept)), 409, 'PAYMENT_NOT_PENDING');
    expect(await walletBalance(app(), passenger.bearer)).toBe(0);
  });

  it('answers an unknown payment with 404 and refuses unauthenticated top-ups', async () => {
    expectError(await postWebhook(callback({ id: randomUUID(), status: 'pending', amount: 1, redirectUrl: '' })), 404, 'NOT_FOUND');
    expectError(await http().post(`/v1/payments/sandbox/${randomUUID()}/complete`).send({}), 404, 'NOT_FOUND');
    expectError(await http().post('/v1/wallet/top-ups').set('Idempotency-Key', randomUUID()).send({ amount: 50_000 }), 401, 'UNAUTHENTICATED');
    expectError(await http().post('/v1/wallet/top-ups').set('Authorization', passenger.bearer).set('Idempotency-Key', randomUUID()).send({ amount: 10.5 }), 400, 'VALIDATION_FAILED');
  });
});

describe('the development gateway in production', () => {
  it('is switched off', async () => {
    const qrKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    const app = await startTestApp({
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      AUTH_TOKEN_KEYS: `prod-1:${'p'.repeat(40)}`,
      PAYMENT_WEBHOOK_SECRET: 's'.repeat(40),
      METRICS_TOKEN: 'm'.repeat(40),
      QR_SIGNING_KEYS: `prod-qr-1:${qrKey}`,
      MEDIA_LOOKUP_SECRET: 'l'.repeat(40),
      TRANSIT_CARD_MASTER_KEY: 't'.repeat(40),
    });
    try {
      const passenger = await testAccount(app, 'passenger');
      const payment = await request(app.getHttpServer()).post('/v1/wallet/top-ups').set('Authorization', passenger.bearer).set('Idempotency-Key', randomUUID()).send({ amount: 50_000 }).expect(201);
      expectError(await request(app.getHttpServer()).post(`/v1/payments/sandbox/${(payment.body as Payment).id}/complete`).send({}), 404, 'NOT_FOUND');
      const keys = await request(app.getHttpServer()).get('/v1/keys').expect(200);
      expect(keys.body.keys.map((key: { kid: string }) => key.kid)).toEqual(['prod-qr-1']);
    } finally {
      await app.close();
    }
  });
});
