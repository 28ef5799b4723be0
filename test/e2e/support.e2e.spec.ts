import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes, randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../src/config/config';
import { APP_CONFIG } from '../../src/config/config.module';
import { localDate, localDateAt, localDayNumber } from '../../src/fares/domain/local-time';
import { transitCardCryptogram } from '../../src/media/medium-keys';
import { AccountGateState } from '../../src/gate-state/account-gate-state';
import type { AuditEntryDto } from '../../src/audit/audit.dto';
import type { CustomerServiceFigures } from '../../src/settlement/customer-service';
import { testAccount } from '../support/auth';
import { expectError } from '../support/http';
import { tap } from '../support/gate';
import { accountQr, journeysWritten, localMorning, metroGates, ride } from '../support/journeys';
import { expectLedgerBalanced, topUp, walletBalance } from '../support/money';
import { createIsolatedDatabase, dropIsolatedDatabase, redisDbUrl } from '../support/sweep';
import { startTestApp } from '../support/test-app';

describe('customer service: finding riders, adjustments, the audit log and the statement (e2e)', () => {
  let app: NestFastifyApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await startTestApp();
  });

  afterAll(async () => {
    await expectLedgerBalanced(app);
    await app.close();
  });

  const statementOf = async (bearer: string, operatorId?: string): Promise<CustomerServiceFigures> => {
    const response = await http()
      .get('/v1/settlements/daily')
      .query({ date: localDateAt(Date.now()), ...(operatorId && { operatorId }) })
      .set('Authorization', bearer)
      .expect(200);
    return (response.body as { customerService: CustomerServiceFigures }).customerService;
  };
  const adjusted = (figures: CustomerServiceFigures, operatorId: string | null, reason: string) =>
    figures.adjustments.find((row) => row.operatorId === operatorId && row.reason === reason)?.amount ?? 0;

  it('finds a rider by email or by the medium they hold, never showing the medium', async () => {
    const support = await testAccount(app, 'support');
    const rider = await testAccount(app, 'passenger');
    await topUp(app, rider.bearer, 50_000);
    const byEmail = await http().get('/v1/support/accounts').query({ email: rider.email.toUpperCase() }).set('Authorization', support.bearer).expect(200);
    expect(byEmail.body).toMatchObject({ id: rider.id, email: rider.email, balance: 50_000, foundBy: 'email', gateBlocked: false });

    const qr = await accountQr(app, rider.bearer);
    const byMedium = await http().get('/v1/support/accounts').query({ medium: qr }).set('Authorization', support.bearer).expect(200);
    expect(byMedium.body).toMatchObject({ id: rider.id, foundBy: 'medium', mediumKind: 'pay_as_you_go' });
    expect(JSON.stringify(byMedium.body)).not.toContain(qr.split('.')[2]);

    const order = await http()
      .post('/v1/orders')
      .set('Authorization', rider.bearer)
      .set('Idempotency-Key', randomUUID())
      .send({ payWith: 'wallet', items: [{ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-lang' }] })
      .expect(201);
    const ticketId = (order.body as { tickets: Array<{ id: string }> }).tickets[0].id;
    const ticketQr = (await http().get(`/v1/tickets/${ticketId}/qr`).query({ format: 'text' }).set('Authorization', rider.bearer).expect(200)).text;
    const byTicket = await http().get('/v1/support/accounts').query({ medium: ticketQr }).set('Authorization', support.bearer).expect(200);
    expect(byTicket.body).toMatchObject({ id: rider.id, foundBy: 'medium', mediumKind: 'ticket', ticketId });

    // A forged medium (the right shape, a wrong signature) finds nobody.
    const [header, payload] = qr.split('.');
    expectError(await http().get('/v1/support/accounts').query({ medium: `${header}.${payload}.${'A'.repeat(86)}` }).set('Authorization', support.bearer), 404, 'NOT_FOUND');
    expectError(await http().get('/v1/support/accounts').set('Authorization', support.bearer), 400, 'VALIDATION_FAILED');
    // Staff are not riders.
    const operator = await testAccount(app, 'operator');
    expectError(await http().get('/v1/support/accounts').query({ email: operator.email }).set('Authorization', support.bearer), 404, 'NOT_FOUND');
  });

  it('finds a rider by a transit card UID or a CCCD number through its look-up hash, never echoing it', async () => {
    const [support, admin, rider] = await Promise.all([testAccount(app, 'support'), testAccount(app, 'admin'), testAccount(app, 'passenger')]);
    const uid = randomUUID().replace(/-/g, '').slice(0, 14).toUpperCase();
    await http().post('/v1/admin/transit-cards').set('Authorization', admin.bearer).send({ cards: [{ uid }] }).expect(201);
    const card = await http().post('/v1/me/media').set('Authorization', rider.bearer).send({ kind: 'transit_card', uid }).expect(201);
    const found = await http().get('/v1/support/accounts').query({ medium: uid.toLowerCase() }).set('Authorization', support.bearer).expect(200);
    expect(found.body).toMatchObject({ id: rider.id, foundBy: 'medium', mediumKind: 'transit_card', mediumId: (card.body as { id: string }).id });
    expect(JSON.stringify(found.body).toUpperCase()).not.toContain(uid);

    const number = `0${String(Date.now()).slice(-11)}`;
    const cccdRider = await testAccount(app, 'passenger');
    await http().post('/v1/me/media').set('Authorization', cccdRider.bearer).send({ kind: 'id_card', number, birthDate: '1950-03-01' }).expect(201);
    const byNumber = await http().get('/v1/support/accounts').query({ medium: number }).set('Authorization', support.bearer).expect(200);
    expect(byNumber.body).toMatchObject({ id: cccdRider.id, mediumKind: 'id_card' });
    expect(JSON.stringify(byNumber.body)).not.toContain(number);
    expectError(await http().get('/v1/support/accounts').query({ medium: '999999999999' }).set('Authorization', support.bearer), 404, 'NOT_FOUND');
    expectError(await http().get('/v1/support/accounts').query({ medium: '12345' }).set('Authorization', support.bearer), 400, 'VALIDATION_FAILED');
  });

  it("puts an agent's adjustment in the ledger, the audit log and the day's statement, once per key", async () => {
    const admin = await testAccount(app, 'admin');
    const support = await testAccount(app, 'support', { operatorId: 'hmc' });
    const rider = await testAccount(app, 'passenger');
    await topUp(app, rider.bearer, 20_000);
    const before = await statementOf(admin.bearer);

    const key = randomUUID();
    const body = { amount: 15_000, reason: 'fare_dispute', note: 'Khách quên chạm ra ở ga Láng, đã xác minh qua camera' };
    const send = () => http().post(`/v1/support/accounts/${rider.id}/adjustments`).set('Authorization', support.bearer).set('Idempotency-Key', key).send(body);
    const first = await send().expect(201);
    expect(first.body).toMatchObject({ accountId: rider.id, amount: 15_000, reason: 'fare_dispute', balanceBefore: 20_000, balanceAfter: 35_000, operatorId: 'hmc' });
    expect((await send().expect(201)).body).toEqual(first.body);
    expect(await walletBalance(app, rider.bearer)).toBe(35_000);

    const db = app.get(DataSource);
    const entries = await db.query<Array<{ ledger_account_id: string; amount: string }>>(
      `SELECT e.ledger_account_id, e.amount FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id WHERE t.reference = $1 AND t.kind = 'adjustment' ORDER BY e.amount`,
      [(first.body as { id: string }).id],
    );
    expect(entries.map((row) => [row.ledger_account_id, Number(row.amount)])).toEqual([
      ['system:adjustments', -15_000],
      [`wallet:${rider.id}`, 15_000],
    ]);

    // Money out too, refused beyond the balance (nothing written).
    const out = await http()
      .post(`/v1/support/accounts/${rider.id}/adjustments`)
      .set('Authorization', support.bearer)
      .set('Idempotency-Key', randomUUID())
      .send({ amount: -5_000, reason: 'duplicate_charge', note: 'Hoàn tiền hai lần cho cùng một chuyến' })
      .expect(201);
    expect(out.body).toMatchObject({ balanceAfter: 30_000 });
    // The gates' balance follows both adjustments (GateWallet, after commit).
    expect(await app.get(AccountGateState).balance(rider.id)).toBe(30_000);
    expectError(
      await http()
        .post(`/v1/support/accounts/${rider.id}/adjustments`)
        .set('Authorization', support.bearer)
        .set('Idempotency-Key', randomUUID())
        .send({ amount: -1_000_000, reason: 'correction', note: 'Thử trừ quá số dư' }),
      409,
      'INSUFFICIENT_BALANCE',
    );
    expectError(await http().post(`/v1/support/accounts/${rider.id}/adjustments`).set('Authorization', support.bearer).send(body), 400, 'IDEMPOTENCY_KEY_REQUIRED');

    const audit = (await http().get('/v1/admin/audit').query({ subjectId: rider.id }).set('Authorization', admin.bearer).expect(200)).body as AuditEntryDto[];
    expect(audit).toHaveLength(2);
    expect(audit[1]).toMatchObject({
      actor: { id: support.id, role: 'support', operatorId: 'hmc' },
      action: 'wallet.adjustment',
      subject: { kind: 'account', id: rider.id },
      reason: 'fare_dispute',
      note: body.note,
      before: { balance: 20_000 },
      after: { balance: 35_000, amount: 15_000 },
    });
    // Nobody edits the log, not even with SQL.
    await expect(db.query(`UPDATE audit_log SET reason = 'goodwill' WHERE subject_id = $1`, [rider.id])).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM audit_log WHERE subject_id = $1`, [rider.id])).rejects.toThrow(/append-only/);
    expectError(await http().get('/v1/admin/audit').set('Authorization', support.bearer), 403, 'FORBIDDEN');

    const after = await statementOf(admin.bearer);
    expect(adjusted(after, 'hmc', 'fare_dispute') - adjusted(before, 'hmc', 'fare_dispute')).toBe(15_000);
    expect(adjusted(after, 'hmc', 'duplicate_charge') - adjusted(before, 'hmc', 'duplicate_charge')).toBe(-5_000);
    // The operator's own statement shows its agents' adjustments, and no other operator's.
    const operator = await testAccount(app, 'operator', { operatorId: 'hmc' });
    const own = await statementOf(operator.bearer, 'hmc');
    expect(own.adjustments.every((row) => row.operatorId === 'hmc')).toBe(true);
    expect(adjusted(own, 'hmc', 'fare_dispute')).toBeGreaterThanOrEqual(15_000);
    const csv = await http().get('/v1/settlements/daily.csv').query({ date: localDateAt(Date.now()) }).set('Authorization', admin.bearer).expect(200);
    expect(csv.text).toMatch(/support_adjustment,hmc,.*fare_dispute/);
  });

  it("blocks a rider's pay-as-you-go QR at the gates and puts it in the audit log", async () => {
    const admin = await testAccount(app, 'admin');
    const support = await testAccount(app, 'support');
    const rider = await testAccount(app, 'passenger');
    await topUp(app, rider.bearer, 50_000);
    const qr = await accountQr(app, rider.bearer);
    const gates = await metroGates(app, ['2a-cat-linh']);
    const block = (blocked: boolean) =>
      http().put(`/v1/support/accounts/${rider.id}/gate-block`).set('Authorization', support.bearer).send({ blocked, reason: blocked ? 'lost_medium' : 'resolved', note: 'Khách báo mất điện thoại' });
    expect((await block(true).expect(200)).body).toMatchObject({ id: rider.id, gateBlocked: true });
    expect(await tap(app, gates['2a-cat-linh'], { qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
    expect((await block(false).expect(200)).body).toMatchObject({ gateBlocked: false });
    expect((await tap(app, gates['2a-cat-linh'], { qr, direction: 'entry' })).verdict).toBe('accept');
    const audit = (await http().get('/v1/admin/audit').query({ subjectId: rider.id }).set('Authorization', admin.bearer).expect(200)).body as AuditEntryDto[];
    expect(audit.map((entry) => [entry.action, entry.reason, entry.before, entry.after])).toEqual([
      ['gate.unblock', 'resolved', { gateBlocked: true }, { gateBlocked: false }],
      ['gate.block', 'lost_medium', { gateBlocked: false }, { gateBlocked: true }],
    ]);
  });

  it("shows a bound agent only its operator's journeys", async () => {
    const rider = await testAccount(app, 'passenger');
    const vinbusAgent = await testAccount(app, 'support', { operatorId: 'vinbus' });
    const [anyAgent, hmcAgent] = await Promise.all([testAccount(app, 'support'), testAccount(app, 'support', { operatorId: 'hmc' })]);
    await topUp(app, rider.bearer, 50_000);
    const gates = await metroGates(app, ['2a-cat-linh', '2a-lang']);
    await ride(app, gates, await accountQr(app, rider.bearer), '2a-cat-linh', '2a-lang', localMorning(1));
    await journeysWritten(app, rider.id, 1);
    const journeysAs = async (bearer: string) => ((await http().get(`/v1/support/accounts/${rider.id}/journeys`).set('Authorization', bearer).expect(200)).body as Array<{ lineId: string }>).map((journey) => journey.lineId);
    expect(await journeysAs(vinbusAgent.bearer)).toEqual([]);
    expect(await journeysAs(hmcAgent.bearer)).toEqual(['metro-2a']);
    expect(await journeysAs(anyAgent.bearer)).toEqual(['metro-2a']);
    expectError(await http().get(`/v1/support/accounts/${randomUUID()}/journeys`).set('Authorization', anyAgent.bearer), 404, 'NOT_FOUND');
  });

  it("blocks and replaces a rider's card through the media module, audited with the reason, before and after; balance and passes stay", async () => {
    const [admin, rider, stranger] = await Promise.all([testAccount(app, 'admin'), testAccount(app, 'passenger'), testAccount(app, 'passenger')]);
    // Media are the scheme's, not an operator's: an agent bound to one may block and replace them.
    const agent = await testAccount(app, 'support', { operatorId: 'vinbus' });
    const masterKey = app.get<AppConfig>(APP_CONFIG).media.transitCardMasterKey;
    const card = (uid: string, counter: number) => ({ kind: 'transit_card', uid, counter, cryptogram: transitCardCryptogram(masterKey, uid, counter) });
    const [lostUid, newUid, foreignUid] = [0, 1, 2].map(() => randomBytes(7).toString('hex').toUpperCase());
    await http().post('/v1/admin/transit-cards').set('Authorization', admin.bearer).send({ cards: [lostUid, newUid, foreignUid].map((uid) => ({ uid })) }).expect(201);
    await topUp(app, rider.bearer, 400_000);
    const pass = ((await http().post('/v1/orders').set('Authorization', rider.bearer).set('Idempotency-Key', randomUUID()).send({ payWith: 'wallet', items: [{ productId: 'metro-month' }] }).expect(201)).body as { tickets: Array<{ id: string }> }).tickets[0];
    const lost = (await http().post('/v1/me/media').set('Authorization', rider.bearer).send({ kind: 'transit_card', uid: lostUid }).expect(201)).body as { id: string };
    const strangers = (await http().post('/v1/me/media').set('Authorization', stranger.bearer).send({ kind: 'transit_card', uid: foreignUid }).expect(201)).body as { id: string };
    const balance = await walletBalance(app, rider.bearer);

    const listed = await http().get(`/v1/support/accounts/${rider.id}/media`).set('Authorization', agent.bearer).expect(200);
    expect(listed.body).toEqual([expect.objectContaining({ id: lost.id, kind: 'transit_card', status: 'active', label: `Thẻ ···${lostUid.slice(-4)}` })]);
    expect(JSON.stringify(listed.body)).not.toContain(lostUid);

    // Blocking: only the rider's own medium, with a reason code; at once at the gates.
    const block = (mediumId: string, accountId = rider.id) =>
      http().post(`/v1/support/accounts/${accountId}/media/${mediumId}/block`).set('Authorization', agent.bearer).send({ reason: 'lost_medium', note: 'Khách báo mất thẻ tại quầy ga Cát Linh' });
    expectError(await block(strangers.id), 404, 'NOT_FOUND');
    expectError(await block(lost.id, randomUUID()), 404, 'NOT_FOUND');
    expect((await block(lost.id).expect(200)).body).toMatchObject({ id: lost.id, status: 'blocked' });
    const gates = await metroGates(app, ['2a-cat-linh']);
    expect(await tap(app, gates['2a-cat-linh'], { medium: card(lostUid, 1), direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });

    // Replacing: a card the scheme issued and nobody else holds; the old one stays blocked.
    const replace = (uid: string) =>
      http().post(`/v1/support/accounts/${rider.id}/media/${lost.id}/replacement`).set('Authorization', agent.bearer).send({ uid, reason: 'lost_medium', note: 'Cấp thẻ mới tại quầy' });
    expectError(await replace(foreignUid), 409, 'MEDIUM_LINKED_ELSEWHERE');
    expectError(await replace('04A2B3C4D5E6F7'), 422, 'CARD_NOT_ISSUED');
    expectError(await replace(lostUid), 409, 'MEDIUM_SAME');
    const replaced = (await replace(newUid).expect(201)).body as { replaced: { id: string; status: string }; medium: { id: string; status: string; kind: string } };
    expect(replaced).toMatchObject({ replaced: { id: lost.id, status: 'blocked' }, medium: { kind: 'transit_card', status: 'active' } });
    expect(JSON.stringify(replaced)).not.toContain(newUid);
    const statuses = ((await http().get('/v1/me/media').set('Authorization', rider.bearer).expect(200)).body as Array<{ id: string; status: string }>).map(({ id, status }) => ({ id, status }));
    expect(statuses).toEqual(expect.arrayContaining([{ id: lost.id, status: 'blocked' }, { id: replaced.medium.id, status: 'active' }]));
    expect(await tap(app, gates['2a-cat-linh'], { medium: card(lostUid, 2), direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
    expect(await tap(app, gates['2a-cat-linh'], { medium: card(newUid, 1), direction: 'entry' })).toMatchObject({ verdict: 'accept' });
    expect(await walletBalance(app, rider.bearer)).toBe(balance);
    expect(((await http().get('/v1/tickets').set('Authorization', rider.bearer).expect(200)).body as Array<{ id: string }>).map((ticket) => ticket.id)).toContain(pass.id);

    const audit = (await http().get('/v1/admin/audit').query({ subjectId: lost.id }).set('Authorization', admin.bearer).expect(200)).body as AuditEntryDto[];
    expect(audit.filter((entry) => entry.actor.id === agent.id).map(({ action, actor, reason, note, before, after }) => ({ action, actor, reason, note, before, after }))).toEqual([
      {
        action: 'medium.replace',
        actor: { id: agent.id, role: 'support', operatorId: 'vinbus' },
        reason: 'lost_medium',
        note: 'Cấp thẻ mới tại quầy',
        before: { status: 'blocked' },
        after: { status: 'blocked', replacedBy: { id: replaced.medium.id, kind: 'transit_card', label: `Thẻ ···${newUid.slice(-4)}`, status: 'active' }, replaced: [] },
      },
      {
        action: 'medium.block',
        actor: { id: agent.id, role: 'support', operatorId: 'vinbus' },
        reason: 'lost_medium',
        note: 'Khách báo mất thẻ tại quầy ga Cát Linh',
        before: { status: 'active' },
        after: { status: 'blocked', replaced: [] },
      },
    ]);
    // Riders, operators and inspectors cannot.
    expectError(await http().post(`/v1/support/accounts/${rider.id}/media/${lost.id}/block`).set('Authorization', rider.bearer).send({ reason: 'lost_medium', note: 'Tự khoá' }), 403, 'FORBIDDEN');
  });
});

/**
 * A day can be closed while it runs; what customer service does on it afterwards cannot be in its frozen
 * statement, so it lands on the next day's. On a database of its own: it closes today.
 */
describe("customer service after its day was closed (e2e)", () => {
  const DATABASE = 'lienthong_support_close_test';
  const REDIS_DB = 9;
  let app: NestFastifyApplication;
  const http = () => request(app.getHttpServer());
  const flushRedis = async () => {
    const redis = createClient({ url: redisDbUrl(REDIS_DB) });
    await redis.connect();
    await redis.flushDb();
    await redis.quit();
  };

  beforeAll(async () => {
    const databaseUrl = await createIsolatedDatabase(DATABASE);
    await flushRedis();
    app = await startTestApp({ DATABASE_URL: databaseUrl, REDIS_URL: redisDbUrl(REDIS_DB) });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await flushRedis();
    await dropIsolatedDatabase(DATABASE);
  });

  it("puts an adjustment made after its day was closed on the next day's statement, once", async () => {
    const [admin, support, rider] = await Promise.all([testAccount(app, 'admin'), testAccount(app, 'support', { operatorId: 'hmc' }), testAccount(app, 'passenger')]);
    const today = localDateAt(Date.now());
    const tomorrow = localDate(localDayNumber(Date.now()) + 1);
    const goodwill = async (date: string) => {
      const response = await http().get('/v1/settlements/daily').query({ date }).set('Authorization', admin.bearer).expect(200);
      const figures = (response.body as { customerService: CustomerServiceFigures }).customerService;
      return figures.adjustments.find((row) => row.operatorId === 'hmc' && row.reason === 'goodwill')?.amount ?? 0;
    };
    const adjust = (amount: number) =>
      http().post(`/v1/support/accounts/${rider.id}/adjustments`).set('Authorization', support.bearer).set('Idempotency-Key', randomUUID()).send({ amount, reason: 'goodwill', note: 'Tàu chậm 20 phút' }).expect(201);

    await adjust(3_000);
    await http().post(`/v1/settlements/daily/${today}/close`).set('Authorization', admin.bearer).expect(200);
    await adjust(12_000);
    expect(await goodwill(today)).toBe(3_000);
    expect(await goodwill(tomorrow)).toBe(12_000);
    expect(await walletBalance(app, rider.bearer)).toBe(15_000);
  });
});

