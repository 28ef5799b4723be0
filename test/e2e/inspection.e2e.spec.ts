import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createPublicKey, randomUUID, type JsonWebKey } from 'node:crypto';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { localDateAt } from '../../src/fares/domain/local-time';
import { AccountGateState } from '../../src/gate-state/account-gate-state';
import type { InspectionDto, PenaltyDto } from '../../src/inspection/inspection.dto';
import type { CustomerServiceFigures } from '../../src/settlement/customer-service';
import { testAccount, testHandset, type TestAccount } from '../support/auth';
import { tap } from '../support/gate';
import { expectError } from '../support/http';
import { accountQr, metroGates } from '../support/journeys';
import { expectLedgerBalanced, topUp, walletBalance } from '../support/money';
import { Phone } from '../support/phone';
import { startTestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

describe('inspection and penalty fares (e2e)', () => {
  let app: NestFastifyApplication;
  let inspector: TestAccount;
  let admin: TestAccount;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await startTestApp();
    [inspector, admin] = await Promise.all([testAccount(app, 'inspector', { operatorId: 'hmc' }), testAccount(app, 'admin')]);
  });

  afterAll(async () => {
    await expectLedgerBalanced(app);
    await app.close();
  });

  const inspect = async (qr: string, extra: object = {}): Promise<InspectionDto> =>
    (await http().post('/v1/inspections').set('Authorization', inspector.bearer).send({ qr, lineId: 'metro-2a', ...extra }).expect(200)).body as InspectionDto;
  const penaltyRevenue = async (): Promise<number> => {
    const response = await http().get('/v1/settlements/daily').query({ date: localDateAt(Date.now()) }).set('Authorization', admin.bearer).expect(200);
    return (response.body as { customerService: CustomerServiceFigures }).customerService.penaltyRevenue.find((row) => row.operatorId === 'hmc')?.amount ?? 0;
  };
  const issue = (inspectionId: string) => http().post('/v1/penalties').set('Authorization', inspector.bearer).send({ inspectionId });

  it('finds a rider who tapped in on this line VALID', async () => {
    const rider = await testAccount(app, 'passenger');
    await topUp(app, rider.bearer, 50_000);
    const qr = await accountQr(app, rider.bearer);
    const gates = await metroGates(app, ['2a-cat-linh']);
    expect((await tap(app, gates['2a-cat-linh'], { qr, direction: 'entry' })).verdict).toBe('accept');
    await waitFor(
      () => app.get(DataSource).query<unknown[]>(`SELECT 1 FROM journeys WHERE account_id = $1 AND status = 'open'`, [rider.id]),
      (rows) => rows.length === 1,
    );
    const result = await inspect(qr);
    expect(result).toMatchObject({ result: 'VALID', reason: 'OPEN_JOURNEY', basis: 'online', mediumKind: 'pay_as_you_go', entryStationId: '2a-cat-linh', penaltyPossible: false });
    expectError(await issue(result.id), 409, 'INSPECTION_VALID');
    // On another line of the operator the same rider has not tapped.
    const elsewhere = (await http().post('/v1/inspections').set('Authorization', inspector.bearer).send({ qr, lineId: 'metro-3' }).expect(200)).body as InspectionDto;
    expect(elsewhere).toMatchObject({ result: 'NO_TAP', reason: 'NO_OPEN_JOURNEY' });
  });

  it("reads the app's dynamic QR: VALID with its journey, a stale code INVALID (STALE_CODE), a lost phone's code REVOKED", async () => {
    const rider = await testAccount(app, 'passenger');
    await topUp(app, rider.bearer, 50_000);
    const phone = new Phone();
    const medium = (await http().post('/v1/me/media').set('Authorization', rider.bearer).send({ kind: 'app', publicKey: phone.publicJwk }).expect(201)).body as { id: string; credential: string };
    const gates = await metroGates(app, ['2a-cat-linh']);
    expect((await tap(app, gates['2a-cat-linh'], { qr: phone.code(medium.credential), direction: 'entry' })).verdict).toBe('accept');
    await waitFor(
      () => app.get(DataSource).query<unknown[]>(`SELECT 1 FROM journeys WHERE account_id = $1 AND status = 'open'`, [rider.id]),
      (rows) => rows.length === 1,
    );
    expect(await inspect(phone.code(medium.credential))).toMatchObject({ result: 'VALID', reason: 'OPEN_JOURNEY', mediumKind: 'app', entryStationId: '2a-cat-linh' });
    expect(await inspect(phone.code(medium.credential, Date.now() - 5 * 60_000))).toMatchObject({ result: 'INVALID', reason: 'STALE_CODE', penaltyPossible: false });
    expect(await inspect(new Phone().code(medium.credential))).toMatchObject({ result: 'INVALID', reason: 'INVALID_QR' });
    await http().post(`/v1/me/media/${medium.id}/lost`).set('Authorization', rider.bearer).expect(200);
    expect(await inspect(phone.code(medium.credential))).toMatchObject({ result: 'INVALID', reason: 'REVOKED', mediumKind: 'app', penaltyPossible: true });
  });

  it('finds a rider who did not tap NO_TAP; the penalty issued is paid from the wallet and shows on the statement', async () => {
    const rider = await testAccount(app, 'passenger');
    await topUp(app, rider.bearer, 250_000);
    const result = await inspect(await accountQr(app, rider.bearer));
    expect(result).toMatchObject({ result: 'NO_TAP', reason: 'NO_OPEN_JOURNEY', penaltyPossible: true });

    const revenueBefore = await penaltyRevenue();
    const penalty = (await issue(result.id).expect(201)).body as PenaltyDto;
    expect(penalty).toMatchObject({ accountId: rider.id, operatorId: 'hmc', fareId: 'no-valid-ticket', amount: 200_000, status: 'issued' });
    expectError(await issue(result.id), 409, 'PENALTY_EXISTS');
    expect((await http().get('/v1/me/penalties').set('Authorization', rider.bearer).expect(200)).body).toEqual([penalty]);

    const key = randomUUID();
    const pay = () => http().post(`/v1/me/penalties/${penalty.id}/payment`).set('Authorization', rider.bearer).set('Idempotency-Key', key).send();
    const paid = await pay().expect(200);
    expect(paid.body).toMatchObject({ status: 'paid' });
    expect((await pay().expect(200)).body).toEqual(paid.body);
    expect(await walletBalance(app, rider.bearer)).toBe(50_000);
    expect(await app.get(AccountGateState).balance(rider.id)).toBe(50_000);
    expectError(await http().post(`/v1/me/penalties/${penalty.id}/payment`).set('Authorization', rider.bearer).set('Idempotency-Key', randomUUID()).send(), 409, 'PENALTY_NOT_PAYABLE');
    const other = await testAccount(app, 'passenger');
    expectError(await http().post(`/v1/me/penalties/${penalty.id}/payment`).set('Authorization', other.bearer).set('Idempotency-Key', randomUUID()).send(), 404, 'NOT_FOUND');

    expect((await penaltyRevenue()) - revenueBefore).toBe(200_000);
    const [entry] = await app
      .get(DataSource)
      .query<Array<{ amount: string }>>(
        `SELECT e.amount FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id WHERE t.reference = $1 AND t.kind = 'penalty' AND e.ledger_account_id = 'system:penalty_revenue'`,
        [penalty.id],
      );
    expect(Number(entry.amount)).toBe(200_000);
  });

  it('takes a penalty paid through the payment gateway once, into penalty revenue, and a late one back to the wallet', async () => {
    const rider = await testAccount(app, 'passenger');
    const ledgerOf = async (penaltyId: string) =>
      app
        .get(DataSource)
        .query<Array<{ account: string; amount: string }>>(
          `SELECT e.ledger_account_id AS account, e.amount FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
            WHERE t.reference = $1 AND t.kind = 'penalty' ORDER BY e.amount`,
          [penaltyId],
        );
    const penaltyFor = async () => ((await issue((await inspect(await accountQr(app, rider.bearer))).id).expect(201)).body as PenaltyDto);
    const payThroughGateway = (penaltyId: string, key = randomUUID()) =>
      http().post(`/v1/me/penalties/${penaltyId}/payment`).set('Authorization', rider.bearer).set('Idempotency-Key', key).send({ payWith: 'gateway' });

    const revenueBefore = await penaltyRevenue();
    const penalty = await penaltyFor();
    const key = randomUUID();
    const started = (await payThroughGateway(penalty.id, key).expect(200)).body as PenaltyDto;
    expect(started).toMatchObject({ status: 'issued', payment: { purpose: 'penalty', penaltyId: penalty.id, amount: 200_000, status: 'pending', gateway: 'sandbox' } });
    // The same key: the same answer; another key while it is pending: the same payment.
    expect((await payThroughGateway(penalty.id, key).expect(200)).body).toEqual(started);
    expect(((await payThroughGateway(penalty.id).expect(200)).body as PenaltyDto).payment?.id).toBe(started.payment!.id);
    expect(await penaltyRevenue()).toBe(revenueBefore);

    const completed = await http().post(`/v1/payments/sandbox/${started.payment!.id}/complete`).send({}).expect(200);
    expect(completed.body).toMatchObject({ webhookStatus: 200, webhookResponse: { status: 'succeeded', applied: true } });
    // The gateway's retry changes nothing.
    expect((await http().post(`/v1/payments/sandbox/${started.payment!.id}/complete`).send({}).expect(200)).body).toMatchObject({ webhookResponse: { applied: false } });
    const [paid] = (await http().get('/v1/me/penalties').set('Authorization', rider.bearer).expect(200)).body as PenaltyDto[];
    expect(paid).toMatchObject({ id: penalty.id, status: 'paid' });
    expect((await ledgerOf(penalty.id)).map((row) => [row.account, Number(row.amount)])).toEqual([
      ['system:gateway_clearing', -200_000],
      ['system:penalty_revenue', 200_000],
    ]);
    expect((await penaltyRevenue()) - revenueBefore).toBe(200_000);
    expectError(await payThroughGateway(penalty.id), 409, 'PENALTY_NOT_PAYABLE');

    // Paid from the wallet while the gateway payment was pending: the gateway's money goes to the wallet.
    await topUp(app, rider.bearer, 200_000);
    const second = await penaltyFor();
    const pending = ((await payThroughGateway(second.id).expect(200)).body as PenaltyDto).payment!;
    await http().post(`/v1/me/penalties/${second.id}/payment`).set('Authorization', rider.bearer).set('Idempotency-Key', randomUUID()).send().expect(200);
    expect(await walletBalance(app, rider.bearer)).toBe(0);
    await http().post(`/v1/payments/sandbox/${pending.id}/complete`).send({}).expect(200);
    expect(await walletBalance(app, rider.bearer)).toBe(200_000);
    await waitFor(() => app.get(AccountGateState).balance(rider.id), (balance) => balance === 200_000);
    expect((await penaltyRevenue()) - revenueBefore).toBe(400_000);
  });

  it('judges offline from the signature and the deny list only', async () => {
    const rider = await testAccount(app, 'passenger');
    const qr = await accountQr(app, rider.bearer);
    expect(await inspect(qr, { offline: true })).toMatchObject({ result: 'VALID', reason: 'VALID_OFFLINE', basis: 'offline' });
    await http().put(`/v1/admin/accounts/${rider.id}/gate-block`).set('Authorization', admin.bearer).send({ blocked: true, reason: 'Báo mất điện thoại' }).expect(204);
    expect(await inspect(qr, { offline: true, occurredAt: new Date(Date.now() - 3600_000).toISOString() })).toMatchObject({ result: 'INVALID', reason: 'REVOKED', basis: 'offline' });
    const [header, payload] = qr.split('.');
    expect(await inspect(`${header}.${payload}.${'A'.repeat(86)}`, { offline: true })).toMatchObject({ result: 'INVALID', reason: 'INVALID_QR' });
    // The device's offline deny list is open to inspectors.
    await http().get('/v1/denylist').set('Authorization', inspector.bearer).expect(200);
  });

  it("an inspector's handset judges offline from the JWKS and the deny list alone, uploads its checks, and issues a penalty that the rider pays", async () => {
    const handset = await testHandset(app, { operatorId: 'hmc' });
    const [paying, blocked] = await Promise.all([testAccount(app, 'passenger'), testAccount(app, 'passenger')]);
    await topUp(app, blocked.bearer, 200_000);
    const qrs = { paying: await accountQr(app, paying.bearer), blocked: await accountQr(app, blocked.bearer) };
    await http().put(`/v1/admin/accounts/${blocked.id}/gate-block`).set('Authorization', admin.bearer).send({ blocked: true, reason: 'Báo mất điện thoại' }).expect(204);

    // What the handset downloads while it has a network: the keys and the deny list.
    const jwks = (await http().get('/v1/keys').expect(200)).body as { keys: Array<JsonWebKey & { kid: string }> };
    const download = async (): Promise<Set<string>> => {
      const entries: Array<{ kind: string; id: string; status: string }> = [];
      for (let since: string | undefined, page; ; since = page.cursor) {
        page = (await http().get('/v1/denylist').query(since === undefined ? {} : { since }).set('Authorization', handset.bearer).expect(200)).body as { entries: typeof entries; cursor: string };
        entries.push(...page.entries);
        if (page.entries.length === 0) break;
      }
      const accounts = new Set<string>();
      for (const entry of entries.filter((candidate) => candidate.kind === 'account')) {
        if (entry.status === 'blocked') accounts.add(entry.id);
        else accounts.delete(entry.id);
      }
      return accounts;
    };
    // A change reaches the deny list once it has settled (a couple of seconds).
    const blockedAccounts = await waitFor(download, (accounts) => accounts.has(blocked.id), 10_000);
    // Offline, with nothing but those: the signature, the expiry and the deny list (no code of ours).
    const judge = (qr: string): string => {
      const kid = jwt.decode(qr, { complete: true })?.header.kid;
      const jwk = jwks.keys.find((key) => key.kid === kid);
      if (!jwk) return 'INVALID';
      try {
        const claims = jwt.verify(qr, createPublicKey({ key: jwk, format: 'jwk' }), { algorithms: ['ES256'] }) as JwtPayload;
        return blockedAccounts.has(String(claims.sub)) ? 'INVALID' : 'VALID';
      } catch {
        return 'INVALID';
      }
    };
    const [header, payload] = qrs.paying.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(86)}`;
    expect([judge(qrs.paying), judge(qrs.blocked), judge(forged)]).toEqual(['VALID', 'INVALID', 'INVALID']);

    // Back online, it uploads what it checked; the service records the same results.
    const checkedAt = new Date(Date.now() - 20 * 60_000).toISOString();
    const upload = async (qr: string) =>
      (await http().post('/v1/inspections').set('Authorization', handset.bearer).send({ qr, lineId: 'metro-2a', offline: true, occurredAt: checkedAt }).expect(200)).body as InspectionDto;
    const recorded = [await upload(qrs.paying), await upload(qrs.blocked), await upload(forged)];
    expect(recorded.map((check) => check.result)).toEqual(['VALID', 'INVALID', 'INVALID']);
    expect(recorded[1]).toMatchObject({ reason: 'REVOKED', basis: 'offline', occurredAt: checkedAt, penaltyPossible: true });

    const revenueBefore = await penaltyRevenue();
    const penalty = (await http().post('/v1/penalties').set('Authorization', handset.bearer).send({ inspectionId: recorded[1].id }).expect(201)).body as PenaltyDto;
    expect(penalty).toMatchObject({ accountId: blocked.id, operatorId: 'hmc', amount: 200_000, status: 'issued' });
    const [issuer] = await app.get(DataSource).query<Array<{ issued_by: string | null; issued_by_device: string | null }>>(`SELECT issued_by, issued_by_device FROM penalties WHERE id = $1`, [penalty.id]);
    expect(issuer).toEqual({ issued_by: null, issued_by_device: handset.deviceId });
    await http().post(`/v1/me/penalties/${penalty.id}/payment`).set('Authorization', blocked.bearer).set('Idempotency-Key', randomUUID()).send().expect(200);
    expect(await walletBalance(app, blocked.bearer)).toBe(0);
    expect((await penaltyRevenue()) - revenueBefore).toBe(200_000);
    const audit = (await http().get('/v1/admin/audit').query({ subjectId: penalty.id }).set('Authorization', admin.bearer).expect(200)).body as Array<{ action: string; actor: object }>;
    expect(audit.map((entry) => [entry.action, entry.actor])).toEqual([['penalty.issue', { id: handset.deviceId, role: 'inspector', operatorId: 'hmc' }]]);

    // A handset of another operator neither inspects hmc's lines nor issues its penalties.
    const vinbusHandset = await testHandset(app, { operatorId: 'vinbus' });
    expectError(await http().post('/v1/inspections').set('Authorization', vinbusHandset.bearer).send({ qr: qrs.paying, lineId: 'metro-2a' }), 403, 'OPERATOR_SCOPE');
    expectError(await http().post('/v1/penalties').set('Authorization', vinbusHandset.bearer).send({ inspectionId: recorded[2].id }), 404, 'NOT_FOUND');
  });

  it('lets the rider dispute a penalty and support cancel it, audited', async () => {
    const rider = await testAccount(app, 'passenger');
    const support = await testAccount(app, 'support', { operatorId: 'hmc' });
    const vinbusSupport = await testAccount(app, 'support', { operatorId: 'vinbus' });
    const result = await inspect(await accountQr(app, rider.bearer));
    const penalty = (await issue(result.id).expect(201)).body as PenaltyDto;
    const disputed = await http().post(`/v1/me/penalties/${penalty.id}/dispute`).set('Authorization', rider.bearer).send({ reason: 'Cổng ga Cát Linh không phản hồi khi tôi chạm' }).expect(200);
    expect(disputed.body).toMatchObject({ status: 'disputed' });
    const decision = { uphold: false, note: 'Camera cho thấy khách đã chạm thẻ' };
    expectError(await http().post(`/v1/support/penalties/${penalty.id}/decision`).set('Authorization', vinbusSupport.bearer).send(decision), 404, 'NOT_FOUND');
    const cancelled = await http().post(`/v1/support/penalties/${penalty.id}/decision`).set('Authorization', support.bearer).send(decision).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    expectError(await http().post(`/v1/me/penalties/${penalty.id}/payment`).set('Authorization', rider.bearer).set('Idempotency-Key', randomUUID()).send(), 409, 'PENALTY_NOT_PAYABLE');
    const audit = (await http().get('/v1/admin/audit').query({ subjectId: penalty.id }).set('Authorization', admin.bearer).expect(200)).body as Array<{ action: string; actor: { id: string } }>;
    expect(audit.map((entry) => [entry.action, entry.actor.id])).toEqual([
      ['penalty.cancel', support.id],
      ['penalty.issue', inspector.id],
    ]);
  });

  it("keeps inspectors to their operator's lines", async () => {
    const vinbusInspector = await testAccount(app, 'inspector', { operatorId: 'vinbus' });
    const rider = await testAccount(app, 'passenger');
    expectError(
      await http().post('/v1/inspections').set('Authorization', vinbusInspector.bearer).send({ qr: await accountQr(app, rider.bearer), lineId: 'metro-2a' }),
      403,
      'OPERATOR_SCOPE',
    );
    const result = await inspect(await accountQr(app, rider.bearer));
    expectError(await http().post('/v1/penalties').set('Authorization', vinbusInspector.bearer).send({ inspectionId: result.id }), 404, 'NOT_FOUND');
  });
});
