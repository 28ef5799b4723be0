import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createClient } from 'redis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { AuditEntryDto } from '../../src/audit/audit.dto';
import { OPENAPI_FILE } from '../../src/cli/openapi';
import type { Role } from '../../src/common/access.decorator';
import { localDate, localDayNumber } from '../../src/fares/domain/local-time';
import { testAccount, testDevice, type TestAccount } from '../support/auth';
import { accountQr } from '../support/journeys';
import { topUp } from '../support/money';
import { declaredRoutes } from '../support/routes';
import { createIsolatedDatabase, dropIsolatedDatabase, fillPath, openApiOperations, redisDbUrl, type OpenApiDocument, type Operation } from '../support/sweep';
import { startTestApp } from '../support/test-app';

/**
 * Every admin and support action leaves an audit entry (who, what, why, before, after), written in the
 * action's own transaction. The staff actions are found, not listed: every non-GET operation of
 * openapi.json under /v1/admin or /v1/support, or open only to admins and support agents. Each needs a
 * probe here that makes it succeed; a route added without a probe (or without an audit entry) fails.
 * It runs on a database of its own: it closes a day and adds fare versions.
 */

const AUDIT_DATABASE = 'lienthong_audit_test';
const AUDIT_REDIS_DB = 8;
const STAFF_ROLES: readonly Role[] = ['admin', 'support'];

const DOCUMENT = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;
const OPERATIONS = openApiOperations(DOCUMENT);

interface Staff {
  admin: TestAccount;
  support: TestAccount;
}

interface ProbeCall {
  as: TestAccount;
  params?: Record<string, string>;
  body?: object;
  idempotent?: boolean;
  status: number;
  /** The subject the entry must name; from the answer when the action creates it. */
  subject: string | ((body: Record<string, unknown>) => string);
  /** The entry must show the state before the action (it changes something that existed). */
  before?: boolean;
}

/** A chip ID card linked to a new rider's account: its medium id. */
async function linkedCard(app: NestFastifyApplication): Promise<string> {
  const rider = await testAccount(app, 'passenger');
  const number = String(Math.floor(Math.random() * 1e12)).padStart(12, '0');
  const response = await request(app.getHttpServer()).post('/v1/me/media').set('Authorization', rider.bearer).send({ kind: 'id_card', number, birthDate: '1980-01-02' }).expect(201);
  return (response.body as { id: string }).id;
}

const later = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
const prices = { adult: 60_000, priority: 30_000, elderly: 0, disabled: 0, meritorious: 0, poor_household: 0, child: 0 };

/** How to make each staff action succeed once. */
const PROBES: Record<string, (app: NestFastifyApplication, staff: Staff) => Promise<ProbeCall>> = {
  'POST /v1/admin/products': async (_, { admin }) => {
    const id = `audit-weekend-${randomUUID().slice(0, 8)}`;
    return {
      as: admin,
      body: { id, name: 'Vé cuối tuần Metro', kind: 'pass', modes: ['metro'], lineIds: ['metro-2a'], singleLine: false, validityDays: 2, prices, payAsYouGoCap: 'day', onSale: true, effectiveFrom: later(30) },
      status: 201,
      subject: id,
    };
  },
  'PATCH /v1/admin/products/{id}': async (_, { admin }) => ({
    as: admin,
    params: { id: 'metro-month' },
    body: { name: 'Vé tháng Metro (giá mới)', effectiveFrom: later(31) },
    status: 200,
    subject: 'metro-month',
    before: true,
  }),
  'POST /v1/admin/fare-tables': async (_, { admin }) => ({
    as: admin,
    body: {
      effectiveFrom: later(32),
      freeRiderCategories: ['elderly'],
      rules: [{ id: 'metro-distance', modes: ['metro'], lineIds: ['metro-2a'], method: 'distance', baseAmount: 8000, perKmAmount: 850, minAmount: 8000, maxAmount: 30000, cashRoundingUnit: 1000 }],
    },
    status: 201,
    subject: (body) => String(body.id),
  }),
  'POST /v1/admin/waivers': async (_, { admin }) => ({
    as: admin,
    body: { name: 'Miễn phí ngày hội', effectiveFrom: later(33), effectiveUntil: later(34), lineIds: ['metro-2a'] },
    status: 201,
    subject: (body) => String(body.id),
  }),
  'POST /v1/admin/concessions/{id}/decision': async (app, { admin }) => {
    const rider = await testAccount(app, 'passenger');
    const claim = await request(app.getHttpServer())
      .post('/v1/me/concessions')
      .set('Authorization', rider.bearer)
      .send({ category: 'disabled', evidence: 'Giấy xác nhận khuyết tật số 123/GXN-UBND', dateOfBirth: '1980-01-15' })
      .expect(201);
    const id = (claim.body as { id: string }).id;
    return { as: admin, params: { id }, body: { approve: true, validUntil: later(365) }, status: 200, subject: id, before: true };
  },
  'POST /v1/admin/devices': async (_, { admin }) => ({
    as: admin,
    body: { operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-lang', kind: 'gate' },
    status: 201,
    subject: (body) => String(body.deviceId),
  }),
  'POST /v1/admin/devices/{deviceId}/disable': async (app, { admin }) => {
    const { deviceId } = await testDevice(app);
    return { as: admin, params: { deviceId }, status: 200, subject: deviceId, before: true };
  },
  'POST /v1/admin/tickets/{id}/revoke': async (app, { admin }) => {
    const rider = await testAccount(app, 'passenger');
    await topUp(app, rider.bearer, 50_000);
    const order = await request(app.getHttpServer())
      .post('/v1/orders')
      .set('Authorization', rider.bearer)
      .set('Idempotency-Key', randomUUID())
      .send({ payWith: 'wallet', items: [{ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-lang' }] })
      .expect(201);
    const id = (order.body as { tickets: Array<{ id: string }> }).tickets[0].id;
    return { as: admin, params: { id }, body: { reason: 'Khách báo mất điện thoại' }, status: 200, subject: id, before: true };
  },
  'POST /v1/admin/transit-cards': async (_, { admin }) => ({
    as: admin,
    body: { cards: [{ uid: randomUUID().replace(/-/g, '').slice(0, 14).toUpperCase() }] },
    status: 201,
    subject: (body) => (body.cards as Array<{ id: string }>)[0].id,
  }),
  'POST /v1/admin/media/{id}/block': async (app, { admin }) => ({ as: admin, params: { id: await linkedCard(app) }, body: { reason: 'Báo mất thẻ' }, status: 200, subject: (body) => String(body.id), before: true }),
  'POST /v1/admin/media/{id}/unblock': async (app, { support }) => {
    const id = await linkedCard(app);
    const admin = await testAccount(app, 'admin');
    await request(app.getHttpServer()).post(`/v1/admin/media/${id}/block`).set('Authorization', admin.bearer).send({}).expect(200);
    return { as: support, params: { id }, body: { reason: 'Đã tìm thấy thẻ' }, status: 200, subject: id, before: true };
  },
  'PUT /v1/admin/accounts/{id}/gate-block': async (app, { admin }) => {
    const rider = await testAccount(app, 'passenger');
    return { as: admin, params: { id: rider.id }, body: { blocked: true, reason: 'Báo mất điện thoại' }, status: 204, subject: rider.id, before: true };
  },
  'POST /v1/support/accounts/{id}/adjustments': async (app, { support }) => {
    const rider = await testAccount(app, 'passenger');
    return { as: support, params: { id: rider.id }, body: { amount: 5_000, reason: 'goodwill', note: 'Tàu chậm 20 phút' }, idempotent: true, status: 201, subject: rider.id, before: true };
  },
  'PUT /v1/support/accounts/{id}/gate-block': async (app, { support }) => {
    const rider = await testAccount(app, 'passenger');
    return { as: support, params: { id: rider.id }, body: { blocked: true, reason: 'lost_medium', note: 'Khách báo mất điện thoại' }, status: 200, subject: rider.id, before: true };
  },
  'POST /v1/support/accounts/{id}/media/{mediumId}/block': async (app, { support }) => {
    const rider = await testAccount(app, 'passenger');
    const number = String(Math.floor(Math.random() * 1e12)).padStart(12, '0');
    const medium = await request(app.getHttpServer()).post('/v1/me/media').set('Authorization', rider.bearer).send({ kind: 'id_card', number, birthDate: '1980-01-02' }).expect(201);
    const mediumId = (medium.body as { id: string }).id;
    return { as: support, params: { id: rider.id, mediumId }, body: { reason: 'stolen_medium', note: 'Khách báo mất ví' }, status: 200, subject: mediumId, before: true };
  },
  'POST /v1/support/accounts/{id}/media/{mediumId}/replacement': async (app, { support }) => {
    const http = () => request(app.getHttpServer());
    const [rider, admin] = await Promise.all([testAccount(app, 'passenger'), testAccount(app, 'admin')]);
    const [oldUid, newUid] = [randomUUID(), randomUUID()].map((id) => id.replace(/-/g, '').slice(0, 14).toUpperCase());
    await http().post('/v1/admin/transit-cards').set('Authorization', admin.bearer).send({ cards: [{ uid: oldUid }, { uid: newUid }] }).expect(201);
    const medium = await http().post('/v1/me/media').set('Authorization', rider.bearer).send({ kind: 'transit_card', uid: oldUid }).expect(201);
    const mediumId = (medium.body as { id: string }).id;
    return { as: support, params: { id: rider.id, mediumId }, body: { uid: newUid, reason: 'damaged_medium', note: 'Thẻ bị gãy' }, status: 201, subject: mediumId, before: true };
  },
  'POST /v1/support/penalties/{id}/decision': async (app, { support }) => {
    const http = () => request(app.getHttpServer());
    const [rider, inspector] = await Promise.all([testAccount(app, 'passenger'), testAccount(app, 'inspector', { operatorId: 'hmc' })]);
    const inspection = await http()
      .post('/v1/inspections')
      .set('Authorization', inspector.bearer)
      .send({ qr: await accountQr(app, rider.bearer), lineId: 'metro-2a' })
      .expect(200);
    const penalty = await http().post('/v1/penalties').set('Authorization', inspector.bearer).send({ inspectionId: (inspection.body as { id: string }).id }).expect(201);
    const id = (penalty.body as { id: string }).id;
    await http().post(`/v1/me/penalties/${id}/dispute`).set('Authorization', rider.bearer).send({ reason: 'Cổng ga không phản hồi khi tôi chạm' }).expect(200);
    return { as: support, params: { id }, body: { uphold: false, note: 'Camera cho thấy khách đã chạm thẻ' }, status: 200, subject: id, before: true };
  },
  'POST /v1/admin/bank-cards/charge-run': async (_, { admin }) => ({ as: admin, body: {}, status: 200, subject: localDate(localDayNumber(Date.now())) }),
  'POST /v1/settlements/daily/{date}/close': async (_, { admin }) => {
    const date = localDate(localDayNumber(Date.now()) - 1);
    return { as: admin, params: { date }, status: 200, subject: date, before: true };
  },
};

describe('the audit log records every admin and support action (e2e)', () => {
  let app: NestFastifyApplication;
  let staff: Staff;
  let auditor: TestAccount;

  const flushRedis = async () => {
    const redis = createClient({ url: redisDbUrl(AUDIT_REDIS_DB) });
    await redis.connect();
    await redis.flushDb();
    await redis.quit();
  };

  beforeAll(async () => {
    const databaseUrl = await createIsolatedDatabase(AUDIT_DATABASE);
    await flushRedis();
    app = await startTestApp({ DATABASE_URL: databaseUrl, REDIS_URL: redisDbUrl(AUDIT_REDIS_DB) });
    const [admin, support, reader] = await Promise.all([testAccount(app, 'admin'), testAccount(app, 'support', { operatorId: 'hmc' }), testAccount(app, 'admin')]);
    staff = { admin, support };
    auditor = reader;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await flushRedis();
    await dropIsolatedDatabase(AUDIT_DATABASE);
  });

  const isStaffAction = (operation: Operation, roles: readonly Role[] | undefined): boolean =>
    operation.method !== 'GET' &&
    (operation.path.startsWith('/v1/admin/') || operation.path.startsWith('/v1/support/') || (roles !== undefined && roles.length > 0 && roles.every((role) => STAFF_ROLES.includes(role))));

  it('has a probe for every admin and support action of openapi.json, and for nothing else', () => {
    const rolesOf = new Map(declaredRoutes(app).map((route) => [route.operationId, route.rule?.public === false ? route.rule.roles : undefined]));
    const actions = OPERATIONS.filter((operation) => isStaffAction(operation, rolesOf.get(operation.operationId))).map((operation) => operation.key);
    expect(actions.length).toBeGreaterThan(10);
    expect(Object.keys(PROBES).sort()).toEqual(actions.sort());
  });

  const newest = async (actorId: string): Promise<AuditEntryDto[]> =>
    (await request(app.getHttpServer()).get('/v1/admin/audit').query({ actorId, limit: '5' }).set('Authorization', auditor.bearer).expect(200)).body as AuditEntryDto[];

  it.each(Object.keys(PROBES))('%s writes who, what, why, before and after', async (key) => {
    const operation = OPERATIONS.find((candidate) => candidate.key === key);
    if (!operation) throw new Error(`${key} is not in openapi.json`);
    const probe = await PROBES[key](app, staff);
    const lastBefore = (await newest(probe.as.id))[0]?.id ?? 0;

    const url = fillPath(operation.path, probe.params ?? {});
    const agent = request(app.getHttpServer());
    let call = (operation.method === 'PUT' ? agent.put(url) : operation.method === 'PATCH' ? agent.patch(url) : agent.post(url)).set('Authorization', probe.as.bearer);
    if (probe.idempotent) call = call.set('Idempotency-Key', randomUUID());
    const response = await (probe.body === undefined ? call.send() : call.send(probe.body));
    expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: probe.status });
    const subject = typeof probe.subject === 'string' ? probe.subject : probe.subject(response.body as Record<string, unknown>);

    const entries = (await newest(probe.as.id)).filter((entry) => entry.id > lastBefore);
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    expect(entry.actor).toMatchObject({ id: probe.as.id, role: probe.as === staff.admin ? 'admin' : 'support' });
    expect(entry.subject.id).toBe(subject);
    expect(entry.action).toMatch(/^[a-z_]+\.[a-z_]+$/);
    expect(entry.reason).toMatch(/^[a-z_]+$/);
    expect(entry.after).not.toBeNull();
    if (probe.before) expect(entry.before).not.toBeNull();
    // The entry's subject filter finds it too.
    const bySubject = (await request(app.getHttpServer()).get('/v1/admin/audit').query({ subjectId: subject }).set('Authorization', auditor.bearer).expect(200)).body as AuditEntryDto[];
    expect(bySubject.map((found) => found.id)).toContain(entry.id);
  });

  it('writes nothing for an action that fails, and nobody can edit it', async () => {
    const count = async () => Number((await app.get(DataSource).query<Array<{ count: string }>>('SELECT count(*) FROM audit_log'))[0].count);
    const before = await count();
    await request(app.getHttpServer()).post(`/v1/admin/devices/no-such-device/disable`).set('Authorization', staff.admin.bearer).send().expect(404);
    await request(app.getHttpServer())
      .put(`/v1/admin/accounts/${randomUUID()}/gate-block`)
      .set('Authorization', staff.admin.bearer)
      .send({ blocked: true, reason: 'Báo mất điện thoại' })
      .expect(404);
    const waiver = { name: 'Miễn phí ngày hội', effectiveFrom: later(50), effectiveUntil: later(51) };
    await request(app.getHttpServer()).post('/v1/admin/waivers').set('Authorization', staff.admin.bearer).send(waiver).expect(201);
    expect(await count()).toBe(before + 1);
    await expect(app.get(DataSource).query(`UPDATE audit_log SET note = 'edited'`)).rejects.toThrow(/append-only/);
  });
});
