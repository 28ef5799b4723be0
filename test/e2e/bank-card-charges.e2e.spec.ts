import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { CardCharges } from '../../src/bank-cards/card-charges';
import { CardTokens } from '../../src/bank-cards/card-tokens';
import type { DebtDto } from '../../src/bank-cards/bank-cards.dto';
import { DAY_MS } from '../../src/fares/domain/local-time';
import { CardGateState } from '../../src/gate-state/card-gate-state';
import { testAccount } from '../support/auth';
import { cardJourney, cardToken } from '../support/bank-cards';
import { expectError } from '../support/http';
import { expectLedgerBalanced } from '../support/money';
import { startTestApp } from '../support/test-app';
import { gateAt, type GateDevice } from '../support/gate';
import { redisContents } from '../support/redis-contents';
import type { TapVerdict } from '../../src/validation/gate.service';
import { waitFor } from '../support/wait';

/** The charge job, debts and their recovery through the development acquirer, on card journeys written as the tap persister writes them. */
describe('bank cards: the daily charge, declines, debts (e2e)', () => {
  let app: NestFastifyApplication;
  let admin: string;
  const http = () => request(app.getHttpServer());
  const db = () => app.get(DataSource);
  const cardId = (token: string) => app.get(CardTokens).idOf(token);
  const yesterday = Date.now() - DAY_MS;

  beforeAll(async () => {
    app = await startTestApp();
    admin = (await testAccount(app, 'admin')).bearer;
  });

  afterAll(async () => {
    await expectLedgerBalanced(app);
    await app.close();
  });

  const chargeRun = async () => (await http().post('/v1/admin/bank-cards/charge-run').set('Authorization', admin).send({}).expect(200)).body as { created: number; captured: number; declined: number };
  const charges = (token: string) =>
    db().query<Array<{ id: string; status: string; amount: string; attempts: number; recovered_by: string | null }>>(
      `SELECT id, status, amount, attempts, recovered_by FROM bank_card_charges WHERE card_id = $1 ORDER BY local_day, sequence`,
      [cardId(token)],
    );
  const acquirerOperations = (chargeId: string) =>
    db().query<Array<{ operation: string; outcome: string }>>(`SELECT operation, outcome FROM dev_acquirer_operations WHERE merchant_reference = $1 ORDER BY created_at`, [chargeId]);
  const cardFares = (journeyIds: string[]) =>
    db().query<Array<{ reference: string; amount: string }>>(
      `SELECT t.reference, e.amount FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
        WHERE t.kind = 'card_fare' AND t.reference = ANY($1) AND e.ledger_account_id = 'system:ticket_sales' ORDER BY t.reference`,
      [journeyIds],
    );
  const linkCard = async (bearer: string, token: string) => http().post('/v1/me/media').set('Authorization', bearer).send({ kind: 'bank_card', token }).expect(201);
  const denylisted = async (token: string): Promise<string | undefined> => {
    let cursor: string | undefined;
    let status: string | undefined;
    for (;;) {
      const page = (await http().get('/v1/denylist').query(cursor ? { since: cursor } : {}).set('Authorization', admin).expect(200)).body as {
        entries: Array<{ kind: string; id: string; status: string }>;
        cursor: string;
      };
      for (const entry of page.entries) if (entry.kind === 'bank_card' && entry.id === cardId(token)) status = entry.status;
      if (page.entries.length === 0) return status;
      cursor = page.cursor;
    }
  };

  it("charges a day's journeys on two operators' lines once, posts a ledger entry per journey, and never twice", async () => {
    const token = cardToken();
    const metro = await cardJourney(app, token, 'metro-2a', '2a-cat-linh', '2a-lang', yesterday - 3 * 3_600_000, 12_000);
    const bus = await cardJourney(app, token, 'bus-32', '32-ben-xe-giap-bat', '32-xa-dan', yesterday - 2 * 3_600_000, 8_000);
    await chargeRun();
    const [charge, ...more] = await charges(token);
    expect(more).toHaveLength(0);
    expect(charge).toMatchObject({ status: 'captured', amount: '20000', attempts: 1 });
    expect((await cardFares([metro, bus])).map((row) => Number(row.amount)).sort((a, b) => a - b)).toEqual([8_000, 12_000]);
    await chargeRun();
    expect(await charges(token)).toHaveLength(1);
    expect((await acquirerOperations(charge.id)).map((op) => op.operation)).toEqual(['authorise', 'capture']);
    expect(await cardFares([metro, bus])).toHaveLength(2);
  });

  it("a decline denies the card; the rider links it, sees the debt, pays it once, and the card leaves the deny list", async () => {
    const token = cardToken('tok_decline_1');
    await cardJourney(app, token, 'metro-2a', '2a-cat-linh', '2a-lang', yesterday, 12_000);
    const declining = Date.now();
    await chargeRun();
    const [charge] = await charges(token);
    expect(charge.status).toBe('declined');
    expect(await app.get(CardGateState).isDenied(cardId(token))).toBe(true);
    // The deny list leaves the newest changes for a couple of seconds (a transaction may still commit before them).
    await waitFor(() => denylisted(token), (status) => status === 'blocked');
    // README "Bank cards", Measured: a validator polling the feed has the card within the 5 minutes.
    const declineToFeedMs = Date.now() - declining;
    expect(declineToFeedMs).toBeLessThan(5 * 60_000);

    const rider = await testAccount(app, 'passenger');
    const stranger = await testAccount(app, 'passenger');
    await linkCard(rider.bearer, token);
    const debts = (await http().get('/v1/me/debts').set('Authorization', rider.bearer).expect(200)).body as DebtDto[];
    expect(debts).toEqual([expect.objectContaining({ id: charge.id, amount: 12_000, currency: 'VND', status: 'unpaid', declineCode: 'insufficient_funds' })]);
    expect((await http().get('/v1/me/debts').set('Authorization', stranger.bearer).expect(200)).body).toEqual([]);
    expectError(await http().post(`/v1/me/debts/${charge.id}/pay`).set('Authorization', stranger.bearer).set('Idempotency-Key', randomUUID()), 404, 'NOT_FOUND');
    expectError(await http().post(`/v1/me/debts/${charge.id}/pay`).set('Authorization', rider.bearer), 400, 'IDEMPOTENCY_KEY_REQUIRED');

    const key = randomUUID();
    const paying = Date.now();
    const paid = (await http().post(`/v1/me/debts/${charge.id}/pay`).set('Authorization', rider.bearer).set('Idempotency-Key', key).expect(200)).body as DebtDto;
    expect(paid).toMatchObject({ id: charge.id, status: 'paid' });
    const again = (await http().post(`/v1/me/debts/${charge.id}/pay`).set('Authorization', rider.bearer).set('Idempotency-Key', key).expect(200)).body as DebtDto;
    expect(again).toEqual(paid);
    expect((await acquirerOperations(charge.id)).map((op) => `${op.operation}:${op.outcome}`)).toEqual(['authorise:declined', 'authorise:approved', 'capture:approved']);
    expect((await charges(token))[0]).toMatchObject({ status: 'captured', recovered_by: 'rider' });
    expect(await app.get(CardGateState).isDenied(cardId(token))).toBe(false);
    await waitFor(() => denylisted(token), (status) => status === 'unblocked');
    // Paid to removal: within the hour.
    const paymentToFeedMs = Date.now() - paying;
    expect(paymentToFeedMs).toBeLessThan(3_600_000);
  });

  it('a card declined again stays in debt (422 CARD_DECLINED) and is retried on the schedule, at most as often as it allows', async () => {
    const token = cardToken('tok_decline');
    await cardJourney(app, token, 'bus-32', '32-ben-xe-giap-bat', '32-xa-dan', yesterday, 8_000);
    await chargeRun();
    const [charge] = await charges(token);
    const rider = await testAccount(app, 'passenger');
    await linkCard(rider.bearer, token);
    expectError(await http().post(`/v1/me/debts/${charge.id}/pay`).set('Authorization', rider.bearer).set('Idempotency-Key', randomUUID()), 422, 'CARD_DECLINED');
    // Not due yet: nothing is asked. Then, a day apart each, the schedule (6 retries within 14 days) and no more.
    await app.get(CardCharges).run();
    expect((await charges(token))[0].attempts).toBe(2);
    for (let day = 1; day <= 15; day++) await app.get(CardCharges).run(Date.now() + day * DAY_MS);
    const [after] = await db().query<Array<{ attempts: number; retries: number; next_retry_at: Date | null; status: string }>>(
      `SELECT attempts, retries, next_retry_at, status FROM bank_card_charges WHERE id = $1`,
      [charge.id],
    );
    expect(after).toEqual({ attempts: 8, retries: 6, next_retry_at: null, status: 'declined' });
  });

  it('the charge job killed after the acquirer answered, and run again, charges no card twice', async () => {
    const charges_ = app.get(CardCharges);
    for (const step of ['applyAuthorisation', 'applyCapture'] as const) {
      const token = cardToken();
      const journey = await cardJourney(app, token, 'metro-2a', '2a-cat-linh', '2a-lang', yesterday, 12_000);
      // The process "dies" between the acquirer's answer and our record of it (the webhook's copy too).
      const killed = jest.spyOn(charges_ as unknown as Record<typeof step, () => Promise<boolean>>, step).mockRejectedValue(new Error('killed'));
      await expect(charges_.run()).rejects.toThrow('killed');
      killed.mockRestore();
      const [stuck] = await charges(token);
      expect(stuck.status).toBe(step === 'applyAuthorisation' ? 'authorising' : 'authorised');
      await charges_.run();
      const [charge] = await charges(token);
      expect(charge.status).toBe('captured');
      expect((await acquirerOperations(charge.id)).map((op) => op.operation)).toEqual(['authorise', 'capture']);
      expect(await cardFares([journey])).toHaveLength(1);
    }
  });

  it("taps on two operators' lines, the daily charge, a decline, refused at the next tap, paid by the rider, accepted again; no token anywhere", async () => {
    const token = cardToken('tok_decline_1');
    const medium = { kind: 'bank_card', token };
    const metroIn = await gateAt(app, 'metro-2a', '2a-cat-linh');
    const metroOut = await gateAt(app, 'metro-2a', '2a-lang');
    const bus = await gateAt(app, 'bus-32', null);
    const at = (minutes: number) => new Date(yesterday - 4 * 3_600_000 + minutes * 60_000).toISOString();
    const upload = async (device: GateDevice, body: object) => {
      const response = await http().post('/v1/validations/batch').set('Authorization', device.bearer).send({ taps: [{ tapId: randomUUID(), medium, ...body }] }).expect(200);
      return (response.body as { results: TapVerdict[] }).results[0];
    };
    expect(await upload(metroIn, { direction: 'entry', occurredAt: at(0) })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    const metroExit = await upload(metroOut, { direction: 'exit', occurredAt: at(20) });
    expect(metroExit).toMatchObject({ verdict: 'accept', reason: 'OK' });
    expect(await upload(bus, { direction: 'entry', stationId: '32-ben-xe-giap-bat', occurredAt: at(120) })).toMatchObject({ verdict: 'accept' });
    const busExit = await upload(bus, { direction: 'exit', stationId: '32-xa-dan', occurredAt: at(140) });
    const journeys = await waitFor(
      () => db().query<Array<{ line_id: string; charge: string; medium_kind: string }>>(`SELECT line_id, charge, medium_kind FROM journeys WHERE card_id = $1 AND status = 'closed'`, [cardId(token)]),
      (rows) => rows.length === 2,
    );
    expect(journeys.map((row) => row.medium_kind)).toEqual(['bank_card', 'bank_card']);
    const total = journeys.reduce((sum, row) => sum + Number(row.charge), 0);
    expect(total).toBe(metroExit.fare! + busExit.fare!);

    await chargeRun();
    const [charge] = await charges(token);
    expect(charge).toMatchObject({ status: 'declined', amount: String(total) });
    const refused = await http().post('/v1/validations').set('Authorization', metroIn.bearer).send({ tapId: randomUUID(), medium, direction: 'entry' }).expect(200);
    expect(refused.body).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });

    const rider = await testAccount(app, 'passenger');
    await linkCard(rider.bearer, token);
    // Linked, it opens the rider's account, and is still refused while it owes.
    const refusedLinked = await http().post('/v1/validations').set('Authorization', metroIn.bearer).send({ tapId: randomUUID(), medium, direction: 'entry' }).expect(200);
    expect(refusedLinked.body).toMatchObject({ verdict: 'reject', reason: 'REVOKED', accountId: rider.id });
    await http().post(`/v1/me/debts/${charge.id}/pay`).set('Authorization', rider.bearer).set('Idempotency-Key', randomUUID()).expect(200);
    const accepted = await http().post('/v1/validations').set('Authorization', metroIn.bearer).send({ tapId: randomUUID(), medium, direction: 'entry' }).expect(200);
    expect(accepted.body).toMatchObject({ verdict: 'accept', reason: 'OK' });

    // The token itself is nowhere: not in a table, not in Redis (keys, hashes, the tap stream).
    const tables = await db().query<Array<{ table_name: string }>>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
    for (const { table_name } of tables) {
      const [{ count }] = await db().query<Array<{ count: number }>>(`SELECT count(*)::int AS count FROM "${table_name}" t WHERE row_to_json(t)::text LIKE $1`, [`%${token}%`]);
      expect({ table: table_name, count }).toEqual({ table: table_name, count: 0 });
    }
    for (const [key, { value }] of await redisContents(app)) {
      expect(key).not.toContain(token);
      expect(value).not.toContain(token);
    }
  });

  it('takes only signed acquirer webhooks', async () => {
    const body = JSON.stringify({ type: 'capture.succeeded', reference: randomUUID(), idempotencyKey: 'x', acquirerReference: 'acq', amount: 1 });
    expectError(await http().post('/v1/bank-cards/acquirer/webhook').set('content-type', 'application/json').set('X-Signature', '0'.repeat(64)).send(body), 401, 'INVALID_SIGNATURE');
  });
});
