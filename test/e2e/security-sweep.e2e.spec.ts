import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { createClient } from 'redis';
import request from 'supertest';
import { parse as parseYaml } from 'yaml';
import { APP_ROLE, generateComposeSecrets } from '../../src/cli/compose-setup';
import { OPENAPI_FILE } from '../../src/cli/openapi';
import { ROLES, type AccessRule, type Role } from '../../src/common/access.decorator';
import { localDate, localDayNumber } from '../../src/fares/domain/local-time';
import { loadConfig } from '../../src/config/config';
import { GateKeys } from '../../src/gate-state/gate-state';
import { RedisService } from '../../src/redis/redis.service';
import { GATE_ROUTE_ACCESS } from '../../src/validation/gate.route';
import { testAccount, testDevice, testHandset, type TestAccount, type TestDevice } from '../support/auth';
import { declaredRoutes, type DeclaredRoute } from '../support/routes';
import {
  bodyFields,
  createIsolatedDatabase,
  deeplyNested,
  dropIsolatedDatabase,
  EDGE_CURSORS,
  EDGE_DATES,
  fieldName,
  fillPath,
  Findings,
  forgedTokens,
  FRAGMENTS,
  inParallel,
  LOOK_ALIKES,
  objectPaths,
  ONE_MEGABYTE,
  openApiOperations,
  OPERATOR_OBJECT,
  redisDbUrl,
  snapshotStores,
  TEN_KILOBYTES,
  valueAt,
  withValue,
  wrongTypeValues,
  type ForgedTokens,
  type HttpMethod,
  type OpenApiDocument,
  type Operation,
  type StoreSnapshot,
} from '../support/sweep';
import { startTestApp, testConfig } from '../support/test-app';

/**
 * The security sweep (issue #8). Every operation of the committed OpenAPI document is called with no
 * token, bad tokens and every role it does not allow; with another passenger's or operator's ids;
 * and with bodies, path and query parameters that must be refused. It runs on a database and a Redis
 * db of its own, so it can require that all those refusals together changed nothing at all.
 */

const SWEEP_DATABASE = 'lienthong_sweep_test';
const SWEEP_REDIS_DB = 7;
const TAP_STREAM = 'gate:taps:sweep';
/** Failed logins and registrations are counted in Redis on purpose (the rate limiters); nothing else may change. */
const LOGIN_ATTEMPT_KEY = /^(login|register):/;
const CONCURRENCY = 6;

const DOCUMENT = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenApiDocument;
const OPERATIONS = openApiOperations(DOCUMENT);

// ---- what the sweep works with ----

interface Victim extends TestAccount {
  orderId: string;
  ticketId: string;
  /** The ticket's QR token, as a gate reads it. */
  ticketQr: string;
  claimId: string;
  paymentId: string;
  /** A chip ID card linked to the victim's account. */
  mediumId: string;
  /** A penalty an hmc inspector's handset issued to the victim, who disputed it. */
  penaltyId: string;
}

/** A caller beyond the one per role in `as`: refused (403) wherever its role is not allowed. */
interface ExtraCaller {
  label: string;
  role: Role;
  bearer: string;
}

interface Fixtures {
  /**
   * A caller of each role; the passenger is the attacker, the operator works for hmc, the validator is an
   * hmc gate, the support agent is bound to hmc, the inspector is an hmc inspector's handset (a device).
   */
  as: Record<Role, string>;
  /** An inspector's account (a person, not a handset) and a support agent bound to another operator (vinbus). */
  extra: ExtraCaller[];
  /** The support agent bound to vinbus. */
  otherSupport: string;
  /** Another passenger's account id (the attacker's). */
  otherRider: string;
  /** A transit card the scheme issued and nobody holds. */
  spareCardUid: string;
  /** A handset's token of a disabled handset. */
  disabledHandset: string;
  /** Tokens signed with our key whose role does not match the device they name (a handset as a validator, a gate as a handset). */
  crossKind: { handsetAsValidator: string; gateAsHandset: string };
  forged: Record<Role, ForgedTokens>;
  /** A passenger whose order, ticket, claim and payment the others try to reach. */
  victim: Victim;
  device: TestDevice;
  /** An access token whose session was logged out. */
  revoked: string;
  /** A validator token of a disabled device. */
  disabled: string;
  /** A validator whose disabling is announced only through Redis pub/sub (checked last). */
  listener: TestDevice;
  /** An email nobody has registered: the register body would succeed. */
  freshEmail: string;
  yesterday: string;
  /** Instants in the future, for effectiveFrom fields. */
  later: (days: number) => string;
}

type From<T> = (f: Fixtures) => T;
type FieldKind =
  /** Free text: anything but letters, digits, spaces and plain punctuation is 400 VALIDATION_FAILED. */
  | 'text'
  /**
   * A credential: any character is allowed (a password may hold `'` or `<`), so a fragment is sent
   * in `credentialBody` and refused as a wrong credential (400, 401 or 409), never 2xx or 500.
   */
  | 'credential'
  /**
   * A QR token: the contract gives every well-formed tap a verdict, so a fragment is 200 reject
   * INVALID_QR (checked after the final snapshot, as rejected taps are recorded); NUL is malformed, 400.
   */
  | 'qr';

interface Probe {
  as?: From<string>;
  params?: From<Record<string, string>>;
  query?: From<Record<string, string>>;
  body?: From<unknown>;
  headers?: From<Record<string, string>>;
}

interface Expectation {
  access: 'public' | readonly Role[];
  /**
   * The request every refusal is made with: real ids (the victim's, where they have an owner), a
   * valid query, and a body that its caller would get accepted. A refusal is then the mutation's
   * or the caller's doing, and a missing check shows up as a 2xx and a changed database.
   */
  params?: From<Record<string, string>>;
  query?: From<Record<string, string>>;
  body?: From<unknown>;
  /** Who sends the body, path and query mutations (default: the control's caller). */
  sweepAs?: From<string>;
  /** An allowed caller gets past the guard with this request, which changes nothing. */
  control: Probe & { status: number };
  /** Callers of an allowed role who must not reach what the ids name. */
  foreign?: Array<Probe & { as: From<string>; status: number; code: string }>;
  /** Body fields, by dotted path, with another rule than "a fragment is refused with 400 or 404". */
  fields?: Record<string, FieldKind>;
  credentialBody?: From<unknown>;
  /** After the final snapshot: what `body` gets from `sweepAs` (it is valid, so a mutation's refusal is the mutation's). */
  accepts?: number;
}

const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';
const metroSingle = { productId: 'metro-single', quantity: 1, originStationId: '2a-cat-linh', destinationStationId: '2a-yen-nghia', lineId: 'metro-2a' };
const tap = (f: Fixtures, tapId: string) => ({ tapId, qr: f.victim.ticketQr, direction: 'entry', stationId: '2a-cat-linh', occurredAt: new Date(Date.now() - 60_000).toISOString() });
const prices = { adult: 60_000, priority: 30_000, elderly: 0, disabled: 0, meritorious: 0, poor_household: 0, child: 0 };

/** Every operation of openapi.json, who may call it, and how the sweep calls it. */
const SWEEP: Record<string, Expectation> = {
  'GET /health/live': { access: 'public', control: { status: 200 } },
  'GET /health/ready': { access: 'public', control: { status: 200 } },
  'GET /v1/operators': { access: 'public', control: { status: 200 } },
  'GET /v1/lines': { access: 'public', query: () => ({ mode: 'metro', operatorId: 'hmc' }), control: { status: 200 } },
  'GET /v1/lines/{id}': { access: 'public', params: () => ({ id: 'metro-2a' }), control: { status: 200 } },
  'GET /v1/gtfs/feed.zip': { access: ['operator', 'admin'], query: (f) => ({ at: f.later(1), days: '7' }), control: { status: 200 } },
  'GET /v1/products': { access: 'public', query: (f) => ({ mode: 'metro', riderCategory: 'adult', at: f.later(1) }), control: { status: 200 } },
  'GET /v1/fares/quote': {
    access: 'public',
    query: (f) => ({ lineId: 'metro-2a', from: '2a-cat-linh', to: '2a-yen-nghia', riderCategory: 'adult', at: f.later(1) }),
    control: { status: 200 },
  },
  'POST /v1/admin/products': {
    access: ['admin'],
    body: (f) => ({
      id: 'sweep-weekend',
      name: 'Vé cuối tuần Metro',
      kind: 'pass',
      modes: ['metro'],
      lineIds: ['metro-2a'],
      singleLine: false,
      validityDays: 2,
      prices,
      payAsYouGoCap: 'day',
      onSale: true,
      effectiveFrom: f.later(30),
    }),
    control: { body: () => ({}), status: 400 },
    fields: { name: 'text' },
    accepts: 201,
  },
  'PATCH /v1/admin/products/{id}': {
    access: ['admin'],
    params: () => ({ id: 'metro-month' }),
    body: (f) => ({ name: 'Vé tháng Metro', modes: ['metro'], lineIds: null, singleLine: false, validityDays: 30, prices, payAsYouGoCap: null, onSale: true, effectiveFrom: f.later(31) }),
    control: { params: () => ({ id: 'no-such-product' }), body: () => ({ onSale: true }), status: 404 },
    fields: { name: 'text' },
    accepts: 200,
  },
  'POST /v1/admin/fare-tables': {
    access: ['admin'],
    body: (f) => ({
      effectiveFrom: f.later(32),
      freeRiderCategories: ['elderly'],
      rules: [{ id: 'metro-distance', modes: ['metro'], lineIds: ['metro-2a'], method: 'distance', baseAmount: 8000, perKmAmount: 850, minAmount: 8000, maxAmount: 30000, cashRoundingUnit: 1000 }],
    }),
    control: { body: () => ({}), status: 400 },
    accepts: 201,
  },
  'POST /v1/admin/waivers': {
    access: ['admin'],
    body: (f) => ({
      name: 'Miễn phí ngày hội',
      effectiveFrom: f.later(33),
      effectiveUntil: f.later(34),
      lineIds: ['metro-2a'],
      modes: ['metro'],
      riderCategories: ['adult'],
      zoneId: 'ring-road-1',
    }),
    control: { body: () => ({}), status: 400 },
    fields: { name: 'text' },
    accepts: 201,
  },
  'POST /v1/auth/register': {
    access: 'public',
    body: (f) => ({ email: f.freshEmail, password: 'tàu điện Cát Linh 2A', fullName: "Nguyễn Thị Ánh O'Brien", dateOfBirth: '1990-05-17' }),
    credentialBody: (f) => ({ email: f.victim.email, password: 'tàu điện Cát Linh 2A', fullName: 'Nguyễn Thị Ánh', dateOfBirth: '1990-05-17' }),
    control: { body: (f) => ({ email: f.victim.email, password: 'tàu điện Cát Linh 2A', fullName: 'Nguyễn Thị Ánh' }), status: 409 },
    fields: { fullName: 'text', password: 'credential' },
    accepts: 201,
  },
  'POST /v1/auth/login': {
    access: 'public',
    body: (f) => ({ email: f.victim.email, password: 'not the password at all' }),
    credentialBody: (f) => ({ email: f.victim.email, password: 'not the password at all' }),
    control: { status: 401 },
    fields: { email: 'credential', password: 'credential' },
  },
  'POST /v1/auth/refresh': { access: 'public', body: () => ({ refreshToken: 'x'.repeat(43) }), control: { body: () => ({}), status: 400 } },
  'POST /v1/auth/logout': { access: 'public', body: () => ({ refreshToken: 'x'.repeat(43) }), control: { status: 204 } },
  'GET /v1/me': { access: ['passenger', 'operator', 'admin'], control: { status: 200 } },
  'POST /v1/me/concessions': {
    access: ['passenger'],
    body: () => ({ category: 'disabled', evidence: 'Giấy xác nhận khuyết tật số 123/GXN-UBND, cấp ngày 01/06/2021', dateOfBirth: '1980-01-15' }),
    control: { body: () => ({}), status: 400 },
    fields: { evidence: 'text' },
    accepts: 201,
  },
  'GET /v1/me/concessions': { access: ['passenger'], control: { status: 200 } },
  'GET /v1/me/concessions/{id}': {
    access: ['passenger'],
    params: (f) => ({ id: f.victim.claimId }),
    control: { as: (f) => f.victim.bearer, status: 200 },
    foreign: [{ as: (f) => f.as.passenger, status: 404, code: 'NOT_FOUND' }],
  },
  'GET /v1/admin/concessions': { access: ['admin'], query: () => ({ status: 'pending', limit: '10' }), control: { status: 200 } },
  'POST /v1/admin/concessions/{id}/decision': {
    access: ['admin'],
    params: (f) => ({ id: f.victim.claimId }),
    body: () => ({ approve: false, reason: "Thiếu bản gốc giấy xác nhận, xin nộp lại (O'Brien)" }),
    control: { params: () => ({ id: NO_SUCH_ID }), status: 404 },
    fields: { reason: 'text' },
    accepts: 200,
  },
  'POST /v1/admin/devices': {
    access: ['admin'],
    body: () => ({ operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-lang', kind: 'gate' }),
    control: { body: () => ({}), status: 400 },
    accepts: 201,
  },
  'POST /v1/admin/devices/{deviceId}/disable': {
    access: ['admin'],
    params: (f) => ({ deviceId: f.device.deviceId }),
    control: { params: () => ({ deviceId: `no-such-device-${NO_SUCH_ID}` }), status: 404 },
  },
  'GET /v1/devices': {
    access: ['admin', 'operator'],
    query: () => ({ operatorId: 'hmc' }),
    sweepAs: (f) => f.as.admin,
    control: { as: (f) => f.as.operator, status: 200 },
    foreign: [{ as: (f) => f.as.operator, query: () => ({ operatorId: 'transerco' }), status: 403, code: 'OPERATOR_SCOPE' }],
  },
  'GET /v1/devices/me': { access: ['validator'], control: { status: 200 } },
  'POST /v1/devices/token': {
    access: 'public',
    body: (f) => ({ deviceId: f.device.deviceId, secret: 'not the device secret' }),
    credentialBody: (f) => ({ deviceId: f.device.deviceId, secret: 'not the device secret' }),
    control: { status: 401 },
    fields: { deviceId: 'credential', secret: 'credential' },
  },
  'GET /v1/wallet': { access: ['passenger'], control: { status: 200 } },
  'POST /v1/wallet/top-ups': { access: ['passenger'], body: () => ({ amount: 100_000 }), control: { body: () => ({ amount: 1 }), status: 400 }, accepts: 201 },
  'POST /v1/payments/webhook': {
    access: 'public',
    control: { headers: () => ({ 'X-Signature': 'f'.repeat(64) }), body: (f) => ({ paymentId: f.victim.paymentId, amount: 100_000, currency: 'VND', outcome: 'succeeded' }), status: 401 },
  },
  'POST /v1/payments/sandbox/{paymentId}/complete': {
    access: 'public',
    params: () => ({ paymentId: NO_SUCH_ID }),
    body: () => ({ outcome: 'failed' }),
    control: { status: 404 },
    accepts: 404,
  },
  'POST /v1/orders': {
    access: ['passenger'],
    body: () => ({ items: [metroSingle], payWith: 'wallet' }),
    sweepAs: (f) => f.victim.bearer,
    control: { body: () => ({ items: [], payWith: 'wallet' }), status: 400 },
    accepts: 201,
  },
  'GET /v1/orders/{id}': {
    access: ['passenger'],
    params: (f) => ({ id: f.victim.orderId }),
    control: { as: (f) => f.victim.bearer, status: 200 },
    foreign: [{ as: (f) => f.as.passenger, status: 404, code: 'NOT_FOUND' }],
  },
  'GET /v1/tickets': { access: ['passenger'], query: () => ({ status: 'active', limit: '10' }), control: { status: 200 } },
  'GET /v1/tickets/{id}': {
    access: ['passenger'],
    params: (f) => ({ id: f.victim.ticketId }),
    control: { as: (f) => f.victim.bearer, status: 200 },
    foreign: [{ as: (f) => f.as.passenger, status: 404, code: 'NOT_FOUND' }],
  },
  'GET /v1/tickets/{id}/qr': {
    access: ['passenger'],
    params: (f) => ({ id: f.victim.ticketId }),
    query: () => ({ format: 'text' }),
    control: { as: (f) => f.victim.bearer, status: 200 },
    foreign: ['png', 'svg', 'text'].map((format) => ({ as: (f: Fixtures) => f.as.passenger, query: () => ({ format }), status: 404, code: 'NOT_FOUND' })),
  },
  'POST /v1/tickets/{id}/refund': {
    access: ['passenger'],
    params: (f) => ({ id: f.victim.ticketId }),
    sweepAs: (f) => f.victim.bearer,
    control: { as: (f) => f.victim.bearer, params: () => ({ id: NO_SUCH_ID }), status: 404 },
    foreign: [{ as: (f) => f.as.passenger, status: 404, code: 'NOT_FOUND' }],
  },
  'GET /v1/me/qr': { access: ['passenger'], query: () => ({ format: 'text' }), control: { status: 200 } },
  'GET /v1/me/journeys': { access: ['passenger'], query: () => ({ limit: '10' }), control: { status: 200 } },
  'GET /v1/me/debts': { access: ['passenger'], control: { status: 200 } },
  'POST /v1/me/debts/{id}/pay': { access: ['passenger'], params: () => ({ id: NO_SUCH_ID }), control: { status: 404 } },
  'POST /v1/admin/bank-cards/charge-run': {
    access: ['admin'],
    body: () => ({ cardId: '0'.repeat(32) }),
    control: { status: 404 },
  },
  'POST /v1/bank-cards/acquirer/webhook': {
    access: 'public',
    control: {
      headers: () => ({ 'X-Signature': 'f'.repeat(64) }),
      body: () => ({ type: 'capture.succeeded', reference: NO_SUCH_ID, idempotencyKey: `${NO_SUCH_ID}:capture`, acquirerReference: 'acq_x', amount: 1 }),
      status: 401,
    },
  },
  'POST /v1/me/journeys/{id}/claims': {
    access: ['passenger'],
    params: () => ({ id: NO_SUCH_ID }),
    body: () => ({ exitStationId: '2a-lang' }),
    control: { status: 404 },
  },
  'GET /v1/support/accounts': { access: ['support'], query: (f) => ({ email: f.victim.email }), control: { status: 200 } },
  'GET /v1/support/accounts/{id}/journeys': { access: ['support'], params: (f) => ({ id: f.victim.id }), query: () => ({ limit: '10' }), control: { status: 200 } },
  'POST /v1/support/accounts/{id}/adjustments': {
    access: ['support'],
    params: (f) => ({ id: f.victim.id }),
    body: () => ({ amount: 1_000, reason: 'goodwill', note: 'Xin lỗi vì tàu chậm 20 phút' }),
    control: { params: () => ({ id: NO_SUCH_ID }), status: 404 },
    fields: { note: 'text' },
    accepts: 201,
  },
  'GET /v1/support/accounts/{id}/media': {
    access: ['support'],
    params: (f) => ({ id: f.victim.id }),
    control: { status: 200 },
    foreign: [{ as: (f) => f.as.support, params: () => ({ id: NO_SUCH_ID }), status: 404, code: 'NOT_FOUND' }],
  },
  'POST /v1/support/accounts/{id}/media/{mediumId}/block': {
    access: ['support'],
    params: (f) => ({ id: f.victim.id, mediumId: f.victim.mediumId }),
    body: () => ({ reason: 'lost_medium', note: 'Khách báo mất thẻ tại quầy' }),
    // Another rider's medium: 404, nothing blocked.
    control: { params: (f) => ({ id: f.otherRider, mediumId: f.victim.mediumId }), status: 404 },
    fields: { note: 'text' },
    accepts: 200,
  },
  'POST /v1/support/accounts/{id}/media/{mediumId}/replacement': {
    access: ['support'],
    params: (f) => ({ id: f.victim.id, mediumId: f.victim.mediumId }),
    body: (f) => ({ uid: f.spareCardUid, reason: 'lost_medium', note: 'Cấp thẻ mới tại quầy' }),
    control: { params: (f) => ({ id: f.otherRider, mediumId: f.victim.mediumId }), status: 404 },
    fields: { note: 'text' },
    accepts: 201,
  },
  'GET /v1/admin/audit': { access: ['admin'], query: () => ({ limit: '10' }), control: { status: 200 } },
  'PUT /v1/support/accounts/{id}/gate-block': {
    access: ['support'],
    params: (f) => ({ id: f.victim.id }),
    body: () => ({ blocked: true, reason: 'lost_medium', note: 'Khách báo mất điện thoại' }),
    control: { params: () => ({ id: NO_SUCH_ID }), status: 404 },
    fields: { note: 'text' },
    accepts: 200,
  },
  'POST /v1/inspections': {
    access: ['inspector'],
    body: (f) => ({ qr: f.victim.ticketQr, lineId: 'metro-2a', offline: true, occurredAt: new Date(Date.now() - 60_000).toISOString() }),
    // A line of another operator: refused before anything is recorded.
    control: { body: (f) => ({ qr: f.victim.ticketQr, lineId: 'bus-e01' }), status: 403 },
    accepts: 200,
  },
  'POST /v1/penalties': { access: ['inspector'], body: () => ({ inspectionId: NO_SUCH_ID }), control: { status: 404 } },
  'GET /v1/me/penalties': { access: ['passenger'], control: { status: 200 } },
  'GET /v1/me/notifications': { access: ['passenger'], control: { status: 200 } },
  // Server-Sent Events: the stream ends after maxSeconds.
  'GET /v1/me/notifications/stream': { access: ['passenger'], query: () => ({ maxSeconds: '1' }), control: { status: 200 } },
  'POST /v1/me/penalties/{id}/payment': { access: ['passenger'], params: () => ({ id: NO_SUCH_ID }), body: () => ({ payWith: 'gateway' }), control: { status: 404 } },
  'POST /v1/me/penalties/{id}/dispute': {
    access: ['passenger'],
    params: () => ({ id: NO_SUCH_ID }),
    body: () => ({ reason: 'Cổng không phản hồi khi tôi chạm' }),
    control: { status: 404 },
    fields: { reason: 'text' },
  },
  'POST /v1/support/penalties/{id}/decision': {
    access: ['support'],
    params: (f) => ({ id: f.victim.penaltyId }),
    body: () => ({ uphold: false, note: 'Camera cho thấy khách đã chạm thẻ' }),
    control: { params: () => ({ id: NO_SUCH_ID }), status: 404 },
    // An agent bound to another operator does not see hmc's penalty.
    foreign: [{ as: (f) => f.otherSupport, status: 404, code: 'NOT_FOUND' }],
    fields: { note: 'text' },
    accepts: 200,
  },
  'GET /v1/keys': { access: 'public', control: { status: 200 } },
  'POST /v1/admin/tickets/{id}/revoke': {
    access: ['admin'],
    params: (f) => ({ id: f.victim.ticketId }),
    body: () => ({ reason: 'Báo mất điện thoại, khách hàng yêu cầu khoá vé' }),
    control: { params: () => ({ id: NO_SUCH_ID }), status: 404 },
    fields: { reason: 'text' },
    accepts: 200,
  },
  'POST /v1/validations': {
    access: ['validator'],
    body: (f) => tap(f, 'sweep-online-1'),
    control: { body: () => ({}), status: 400 },
    fields: { qr: 'qr' },
    accepts: 200,
  },
  'POST /v1/validations/batch': {
    access: ['validator'],
    body: (f) => ({ taps: [tap(f, 'sweep-offline-1')] }),
    control: { body: () => ({ taps: [] }), status: 400 },
    fields: { 'taps.0.qr': 'qr' },
    accepts: 200,
  },
  'GET /v1/denylist': { access: ['validator', 'admin', 'inspector'], control: { status: 200 } },
  'GET /v1/me/media': { access: ['passenger'], control: { status: 200 } },
  'POST /v1/me/media': {
    access: ['passenger'],
    body: () => ({ kind: 'id_card', number: '001090054321', birthDate: '1990-05-17' }),
    control: { body: () => ({}), status: 400 },
    accepts: 201,
  },
  'GET /v1/me/media/{id}': {
    access: ['passenger'],
    params: (f) => ({ id: f.victim.mediumId }),
    control: { as: (f) => f.victim.bearer, status: 200 },
    foreign: [{ as: (f) => f.as.passenger, status: 404, code: 'NOT_FOUND' }],
  },
  'POST /v1/me/media/{id}/lost': {
    access: ['passenger'],
    params: (f) => ({ id: f.victim.mediumId }),
    control: { as: (f) => f.victim.bearer, params: () => ({ id: NO_SUCH_ID }), status: 404 },
    foreign: [{ as: (f) => f.as.passenger, status: 404, code: 'NOT_FOUND' }],
  },
  'POST /v1/me/media/{id}/credential': {
    access: ['passenger'],
    params: (f) => ({ id: f.victim.mediumId }),
    control: { as: (f) => f.victim.bearer, params: () => ({ id: NO_SUCH_ID }), status: 404 },
    foreign: [{ as: (f) => f.as.passenger, status: 404, code: 'NOT_FOUND' }],
  },
  'POST /v1/admin/transit-cards': {
    access: ['admin'],
    body: () => ({ cards: [{ uid: '04A2B3C4D5E680' }] }),
    control: { body: () => ({}), status: 400 },
    accepts: 201,
  },
  'POST /v1/admin/media/{id}/block': {
    access: ['admin', 'support'],
    params: (f) => ({ id: f.victim.mediumId }),
    body: () => ({ reason: 'Báo mất thẻ tại quầy' }),
    control: { params: () => ({ id: NO_SUCH_ID }), status: 404 },
    fields: { reason: 'text' },
    accepts: 200,
  },
  'POST /v1/admin/media/{id}/unblock': {
    access: ['admin', 'support'],
    params: (f) => ({ id: f.victim.mediumId }),
    body: () => ({ reason: 'Đã tìm thấy thẻ' }),
    control: { params: () => ({ id: NO_SUCH_ID }), status: 404 },
    fields: { reason: 'text' },
    accepts: 200,
  },
  'PUT /v1/admin/accounts/{id}/gate-block': {
    access: ['admin'],
    params: (f) => ({ id: f.victim.id }),
    body: () => ({ blocked: true, reason: 'Báo mất điện thoại' }),
    control: { params: () => ({ id: NO_SUCH_ID }), status: 404 },
    fields: { reason: 'text' },
    accepts: 204,
  },
  'GET /v1/settlements/daily': {
    access: ['operator', 'admin'],
    query: (f) => ({ date: f.yesterday, operatorId: 'hmc' }),
    sweepAs: (f) => f.as.admin,
    control: { as: (f) => f.as.operator, status: 200 },
    foreign: [{ as: (f) => f.as.operator, query: (f) => ({ date: f.yesterday, operatorId: 'transerco' }), status: 403, code: 'OPERATOR_SCOPE' }],
  },
  'GET /v1/bank-cards/reconciliation': {
    access: ['operator', 'admin'],
    query: (f) => ({ date: f.yesterday, operatorId: 'hmc' }),
    sweepAs: (f) => f.as.admin,
    control: { as: (f) => f.as.operator, status: 200 },
    foreign: [{ as: (f) => f.as.operator, query: (f) => ({ date: f.yesterday, operatorId: 'transerco' }), status: 403, code: 'OPERATOR_SCOPE' }],
  },
  'GET /v1/settlements/daily.csv': {
    access: ['operator', 'admin'],
    query: (f) => ({ date: f.yesterday, operatorId: 'hmc' }),
    sweepAs: (f) => f.as.admin,
    control: { as: (f) => f.as.operator, status: 200 },
    foreign: [{ as: (f) => f.as.operator, query: (f) => ({ date: f.yesterday, operatorId: 'transerco' }), status: 403, code: 'OPERATOR_SCOPE' }],
  },
  'POST /v1/settlements/daily/{date}/close': {
    access: ['admin'],
    params: (f) => ({ date: f.yesterday }),
    control: { params: () => ({ date: '2999-12-31' }), status: 409 },
  },
  'GET /v1/fare-transactions': {
    access: ['operator', 'admin'],
    query: (f) => ({ date: f.yesterday, operatorId: 'hmc', format: 'json' }),
    sweepAs: (f) => f.as.admin,
    control: { as: (f) => f.as.operator, status: 200 },
    foreign: ['json', 'csv', 'datapackage'].map((format) => ({
      as: (f: Fixtures) => f.as.operator,
      query: (f: Fixtures) => ({ date: f.yesterday, operatorId: 'transerco', format }),
      status: 403,
      code: 'OPERATOR_SCOPE',
    })),
  },
  ...Object.fromEntries(
    (['taps', 'devices', 'trend'] as const).map((report) => {
      const query = (f: Fixtures, operatorId: string): Record<string, string> => (report === 'trend' ? { to: f.yesterday, days: '3', operatorId } : { date: f.yesterday, operatorId });
      const expectation: Expectation = {
        access: ['operator', 'admin'],
        query: (f) => query(f, 'hmc'),
        sweepAs: (f) => f.as.admin,
        control: { as: (f) => f.as.operator, status: 200 },
        foreign: [{ as: (f) => f.as.operator, query: (f) => query(f, 'transerco'), status: 403, code: 'OPERATOR_SCOPE' }],
      };
      return [`GET /v1/reports/${report}`, expectation];
    }),
  ),
};

// ---- sending ----

let requestsSent = 0;

interface Call {
  method: HttpMethod;
  path: string;
  /** Pairs, so that a name may repeat. */
  query?: Array<[string, string]>;
  body?: unknown;
  /** Sent as is (e.g. over the body limit). */
  rawBody?: string;
  bearer?: string;
  headers?: Record<string, string>;
}

describe('security sweep', () => {
  let app: NestFastifyApplication;
  let f: Fixtures;
  let before: StoreSnapshot;

  const send = async (call: Call): Promise<request.Response> => {
    requestsSent++;
    const agent = request(app.getHttpServer());
    const query = call.query?.length ? `?${new URLSearchParams(call.query).toString()}` : '';
    const url = `${call.path}${query}`;
    let test: request.Test;
    switch (call.method) {
      case 'GET':
        test = agent.get(url);
        break;
      case 'POST':
        test = agent.post(url);
        break;
      case 'PUT':
        test = agent.put(url);
        break;
      case 'PATCH':
        test = agent.patch(url);
        break;
      case 'DELETE':
        test = agent.delete(url);
        break;
    }
    if (call.bearer !== undefined) test = test.set('Authorization', call.bearer);
    for (const [name, value] of Object.entries(call.headers ?? {})) test = test.set(name, value);
    const payload = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
    if (payload !== undefined) test = test.set('Content-Type', 'application/json').send(payload);
    return test;
  };

  const entryOf = (operation: Operation): Expectation => {
    const entry = SWEEP[operation.key];
    if (!entry) throw new Error(`${operation.key} has no entry in the sweep`);
    return entry;
  };

  /** The entry's request, with a probe's changes; a fresh Idempotency-Key where the operation needs one. */
  const callFor = (operation: Operation, probe: Probe & { bearer?: string | undefined }): Call => {
    const entry = entryOf(operation);
    const params = (probe.params ?? entry.params)?.(f) ?? {};
    const query = (probe.query ?? entry.query)?.(f) ?? {};
    const body = (probe.body ?? entry.body)?.(f);
    const headers = {
      ...(operation.requiredHeaders.includes('Idempotency-Key') && { 'Idempotency-Key': randomUUID() }),
      ...probe.headers?.(f),
    };
    return {
      method: operation.method,
      path: fillPath(operation.path, params),
      query: Object.entries(query),
      ...(body !== undefined && { body }),
      ...(probe.bearer !== undefined && { bearer: probe.bearer }),
      headers,
    };
  };
  const controlCaller = (entry: Expectation): string | undefined => {
    if (entry.control.as) return entry.control.as(f);
    return entry.access === 'public' ? undefined : f.as[entry.access[0]];
  };
  const sweepCaller = (entry: Expectation): string | undefined => entry.sweepAs?.(f) ?? controlCaller(entry);

  beforeAll(async () => {
    const databaseUrl = await createIsolatedDatabase(SWEEP_DATABASE);
    await flushSweepRedis();
    app = await startTestApp({
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisDbUrl(SWEEP_REDIS_DB),
      GATE_TAP_STREAM: TAP_STREAM,
      // Hundreds of wrong logins come from one address on purpose; 429s would hide what they test.
      LOGIN_ATTEMPTS_PER_PAIR: '1000',
      LOGIN_ATTEMPTS_PER_ACCOUNT: '1000',
      LOGIN_ATTEMPTS_PER_ADDRESS: '100000',
      LOGIN_SLOWDOWN_MAX_MS: '0',
    });
    await app.listen(0, '127.0.0.1');
    f = await setUpFixtures(app);
    before = await snapshotStores(app, (key) => LOGIN_ATTEMPT_KEY.test(key));
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await flushSweepRedis();
    await dropIsolatedDatabase(SWEEP_DATABASE);
  });

  describe('the expectation table', () => {
    it('names every operation of openapi.json, and nothing else', () => {
      const documented = OPERATIONS.map((operation) => operation.key).sort();
      expect(documented.length).toBeGreaterThan(40);
      expect(Object.keys(SWEEP).sort()).toEqual(documented);
    });

    it("gives each operation the roles the code declares, and a body exactly where the document has one", () => {
      const declared = new Map<string, AccessRule | undefined>([
        ...declaredRoutes(app).map((route) => [operationIdOf(route), route.rule] as const),
        // Served straight on Fastify by GateRoute, with the id it had as a controller route.
        ['ValidationController_validate', GATE_ROUTE_ACCESS],
      ]);
      const table = OPERATIONS.map((operation) => {
        const entry = entryOf(operation);
        return { operation: operation.key, access: entry.access === 'public' ? 'public' : [...entry.access].sort(), bearer: entry.access !== 'public', body: entry.body !== undefined };
      });
      const code = OPERATIONS.map((operation) => {
        const rule = declared.get(operation.operationId);
        return {
          operation: operation.key,
          access: rule === undefined ? 'undeclared' : rule.public ? 'public' : [...rule.roles].sort(),
          bearer: operation.bearer,
          body: operation.bodySchema !== undefined,
        };
      });
      expect(table).toEqual(code);
    });

    it('leaves out of the document only public routes (a protected one would escape the sweep)', () => {
      const documented = new Set(OPERATIONS.map((operation) => operation.operationId));
      const hidden = declaredRoutes(app).filter((route) => !documented.has(operationIdOf(route)));
      expect(hidden.filter((route) => route.rule?.public !== true).map((route) => route.route)).toEqual([]);
    });

    it('marks only fields the bodies have', () => {
      const unknown = OPERATIONS.flatMap((operation) => {
        const entry = entryOf(operation);
        const names = operation.bodySchema ? bodyFields(DOCUMENT, operation.bodySchema, entry.body?.(f)).map((field) => fieldName(field.path)) : [];
        return Object.keys(entry.fields ?? {})
          .filter((name) => !names.includes(name))
          .map((name) => `${operation.key} ${name}`);
      });
      expect(unknown).toEqual([]);
    });
  });

  describe('callers', () => {
    test.each(OPERATIONS.map((operation) => [operation.key, operation] as const))('%s: only the roles allowed, with a valid token', async (_, operation) => {
      const entry = entryOf(operation);
      const findings = new Findings();
      const jobs: Array<() => Promise<void>> = [];
      const expect401 = (label: string, bearer: string | undefined, code: string) =>
        jobs.push(async () => findings.error(`${operation.key} ${label}`, await send(callFor(operation, { bearer })), 401, code));
      const expectControl = (label: string, bearer: string | undefined) =>
        jobs.push(async () => findings.passed(`${operation.key} ${label}`, await send(callFor(operation, { ...entry.control, bearer })), entry.control.status));

      if (entry.access === 'public') {
        // A bad token on a public route is ignored: the caller is anonymous, and gets what anyone gets.
        expectControl('without a token', undefined);
        for (const role of ROLES) {
          expectControl(`as ${role}`, f.as[role]);
          expectControl(`with an expired ${role} token`, f.forged[role].expired);
          expectControl(`with a ${role} token signed by another key`, f.forged[role].wrongKey);
        }
        expectControl('with a logged-out session', f.revoked);
        expectControl('as a disabled device', f.disabled);
        expectControl('as a disabled handset', f.disabledHandset);
        expectControl("with a validator's token naming a handset", f.crossKind.handsetAsValidator);
        expectControl("with a handset's token naming a gate", f.crossKind.gateAsHandset);
        for (const extra of f.extra) expectControl(`as ${extra.label}`, extra.bearer);
      } else {
        const allowed = entry.access;
        expect401('without a token', undefined, 'UNAUTHENTICATED');
        expect401('with Basic credentials', 'Basic YWRtaW46YWRtaW4=', 'UNAUTHENTICATED');
        expect401('with an empty bearer', 'Bearer', 'UNAUTHENTICATED');
        expect401('with a bearer that is no JWT', 'Bearer not-a-jwt', 'TOKEN_INVALID');
        for (const role of allowed) {
          expect401(`with an expired ${role} token`, f.forged[role].expired, 'TOKEN_EXPIRED');
          expect401(`with a ${role} token signed by another key`, f.forged[role].wrongKey, 'TOKEN_INVALID');
          expect401(`with an unsigned ${role} token`, f.forged[role].unsigned, 'TOKEN_INVALID');
        }
        expect401('with a logged-out session', f.revoked, 'TOKEN_REVOKED');
        expect401('as a disabled device', f.disabled, 'DEVICE_DISABLED');
        expect401('as a disabled handset', f.disabledHandset, 'DEVICE_DISABLED');
        // A device token must name a device of its own kind: a handset never taps, a gate never inspects.
        expect401("with a validator's token naming a handset", f.crossKind.handsetAsValidator, 'TOKEN_INVALID');
        expect401("with a handset's token naming a gate", f.crossKind.gateAsHandset, 'TOKEN_INVALID');
        for (const role of ROLES.filter((candidate) => !allowed.includes(candidate))) {
          jobs.push(async () => findings.error(`${operation.key} as ${role}`, await send(callFor(operation, { bearer: f.as[role] })), 403, 'FORBIDDEN'));
        }
        for (const extra of f.extra.filter((candidate) => !allowed.includes(candidate.role))) {
          jobs.push(async () => findings.error(`${operation.key} as ${extra.label}`, await send(callFor(operation, { bearer: extra.bearer })), 403, 'FORBIDDEN'));
        }
        expectControl('as an allowed caller', controlCaller(entry));
      }
      for (const [index, foreign] of (entry.foreign ?? []).entries()) {
        jobs.push(async () =>
          findings.error(`${operation.key} foreign caller #${index + 1}`, await send(callFor(operation, { ...foreign, bearer: foreign.as(f) })), foreign.status, foreign.code),
        );
      }
      await inParallel(jobs, CONCURRENCY);
      expect(findings.problems).toEqual([]);
    });
  });

  const withBody = OPERATIONS.filter((operation) => operation.bodySchema !== undefined);
  describe('bodies', () => {
    test.each(withBody.map((operation) => [operation.key, operation] as const))('%s: unknown fields, wrong types, oversized and injected values are refused', async (_, operation) => {
      const entry = entryOf(operation);
      const findings = new Findings();
      const baseline = entry.body!(f);
      const fields = bodyFields(DOCUMENT, operation.bodySchema!, baseline);
      const bearer = sweepCaller(entry);
      const params = entry.params;
      const jobs: Array<() => Promise<void>> = [];
      const sendBody = (body: unknown) => send(callFor(operation, { params, body: () => body, bearer }));
      const expect400 = (label: string, body: unknown) =>
        jobs.push(async () => findings.error(`${operation.key} ${label}`, await sendBody(body), 400, 'VALIDATION_FAILED'));

      for (const path of objectPaths(fields)) expect400(`with an unknown field in ${fieldName(path) || 'the body'}`, withValue(baseline, [...path, 'sweepUnknownField'], 'x'));
      for (const field of fields) {
        for (const value of wrongTypeValues(field)) expect400(`with ${fieldName(field.path)} = ${JSON.stringify(value)}`, withValue(baseline, field.path, value));
      }
      const strings = fields.filter((field) => field.type === 'string');
      for (const field of strings) {
        const name = fieldName(field.path);
        const kind = entry.fields?.[name];
        expect400(`with 10 KB in ${name}`, withValue(baseline, field.path, TEN_KILOBYTES));
        expect400(`with an operator object in ${name}`, withValue(baseline, field.path, OPERATOR_OBJECT));
        for (const fragment of FRAGMENTS) {
          const label = `${operation.key} with ${JSON.stringify(fragment)} in ${name}`;
          switch (kind) {
            case undefined:
              jobs.push(async () => findings.refused(label, await sendBody(withValue(baseline, field.path, fragment)), [400, 404]));
              break;
            case 'text':
              jobs.push(async () => findings.error(label, await sendBody(withValue(baseline, field.path, fragment)), 400, 'VALIDATION_FAILED'));
              break;
            case 'credential': {
              const body = withValue(entry.credentialBody!(f), field.path, fragment);
              jobs.push(async () =>
                findings.refused(label, await sendBody(body), [400, 401, 409], ['VALIDATION_FAILED', 'WEAK_PASSWORD', 'INVALID_CREDENTIALS', 'EMAIL_TAKEN']),
              );
              break;
            }
            case 'qr':
              // Malformed input (no field may hold NUL); the other fragments get a verdict, checked after the final snapshot.
              if (fragment.includes('\u0000')) jobs.push(async () => findings.error(label, await sendBody(withValue(baseline, field.path, fragment)), 400, 'VALIDATION_FAILED'));
              break;
          }
        }
      }
      // The body limit holds whatever the field: a body without strings gets a padding field.
      const padded = (strings.find((field) => valueAt(baseline, field.path) !== undefined) ?? strings[0])?.path ?? ['padding'];
      jobs.push(async () => {
        const response = await send({ ...callFor(operation, { params, bearer }), body: undefined, rawBody: JSON.stringify(withValue(baseline, padded, ONE_MEGABYTE)) });
        findings.error(`${operation.key} with 1 MB in ${fieldName(padded)}`, response, 413, 'PAYLOAD_TOO_LARGE');
      });
      await inParallel(jobs, CONCURRENCY);
      expect(findings.problems).toEqual([]);
    });
  });

  const withParams = OPERATIONS.filter((operation) => operation.pathParams.length + operation.queryParams.length > 0);
  describe('path and query parameters', () => {
    test.each(withParams.map((operation) => [operation.key, operation] as const))('%s: injected and oversized values are refused', async (_, operation) => {
      const entry = entryOf(operation);
      const findings = new Findings();
      const bearer = sweepCaller(entry);
      const params = entry.params?.(f) ?? {};
      const query = entry.query?.(f) ?? {};
      const jobs: Array<() => Promise<void>> = [];
      const refused = (label: string, call: Call) => jobs.push(async () => findings.refused(`${operation.key} ${label}`, await send(call), [400, 404]));

      for (const name of operation.pathParams) {
        for (const value of FRAGMENTS) {
          refused(`with ${JSON.stringify(value)} as {${name}}`, callFor(operation, { params: () => ({ ...params, [name]: value }), bearer }));
        }
        // Fastify's router refuses a parameter over 100 characters before any route runs (src/app.ts).
        jobs.push(async () =>
          findings.error(`${operation.key} with 10 KB as {${name}}`, await send(callFor(operation, { params: () => ({ ...params, [name]: TEN_KILOBYTES }), bearer })), 404, 'NOT_FOUND'),
        );
      }
      for (const name of operation.queryParams) {
        const others = Object.entries(query).filter(([key]) => key !== name);
        for (const value of [...FRAGMENTS, TEN_KILOBYTES]) {
          refused(`with ${JSON.stringify(value.slice(0, 40))} as ?${name}`, { ...callFor(operation, { bearer }), query: [...others, [name, value]] });
        }
        refused(`with an operator object as ?${name}`, { ...callFor(operation, { bearer }), query: [...others, [`${name}[$gt]`, '']] });
        refused(`with ?${name} given twice`, { ...callFor(operation, { bearer }), query: [...others, [name, query[name] ?? 'a'], [name, 'b']] });
      }
      for (const name of operation.requiredHeaders.filter((header) => header !== 'Idempotency-Key')) {
        for (const value of FRAGMENTS.filter((fragment) => !fragment.includes('\u0000'))) {
          jobs.push(async () =>
            findings.refused(`${operation.key} with ${JSON.stringify(value)} in ${name}`, await send(callFor(operation, { ...entry.control, headers: () => ({ [name]: value }) })), [400, 401]),
          );
        }
      }
      await inParallel(jobs, CONCURRENCY);
      expect(findings.problems).toEqual([]);
    });
  });

  describe('what the outside attack of #17 found', () => {
    test.each(withBody.map((operation) => [operation.key, operation] as const))('%s: a body nested past JSON_MAX_DEPTH is 400 JSON_TOO_DEEP', async (_, operation) => {
      const entry = entryOf(operation);
      const findings = new Findings();
      for (const depth of [33, 2_000, 50_000]) {
        const response = await send({ ...callFor(operation, { params: entry.params, bearer: sweepCaller(entry) }), body: undefined, rawBody: deeplyNested(depth) });
        findings.error(`${operation.key} nested ${depth} deep`, response, 400, 'JSON_TOO_DEEP');
      }
      expect(findings.problems).toEqual([]);
    });

    it("refuses look-alikes of an existing account's email, and creates no account (the final snapshot checks)", async () => {
      const findings = new Findings();
      for (const [label, disguise] of LOOK_ALIKES) {
        const email = disguise(f.victim.email);
        expect(email).not.toBe(f.victim.email);
        const response = await send({ method: 'POST', path: '/v1/auth/register', body: { email, password: 'tàu điện Cát Linh 2A', fullName: 'Kẻ giả danh' } });
        findings.refused(`register ${label}: ${JSON.stringify(email)}`, response, [400, 409], ['VALIDATION_FAILED', 'EMAIL_TAKEN']);
      }
      expect(findings.problems).toEqual([]);
    });

    it('refuses settlement days Postgres cannot hold with 400', async () => {
      const findings = new Findings();
      for (const date of EDGE_DATES) {
        for (const path of ['/v1/settlements/daily', '/v1/settlements/daily.csv', '/v1/fare-transactions', '/v1/bank-cards/reconciliation']) {
          findings.error(`GET ${path}?date=${date}`, await send({ method: 'GET', path, query: [['date', date]], bearer: f.as.admin }), 400, 'VALIDATION_FAILED');
        }
        findings.error(`close ${date}`, await send({ method: 'POST', path: `/v1/settlements/daily/${date}/close`, bearer: f.as.admin }), 400, 'VALIDATION_FAILED');
      }
      expect(findings.problems).toEqual([]);
    });

    it('refuses denylist cursors hiding a NUL, a control character or an impossible time with 400', async () => {
      const findings = new Findings();
      for (const since of EDGE_CURSORS) {
        for (const role of ['admin', 'validator', 'inspector'] as const) {
          findings.error(`GET /v1/denylist?since=${since} as ${role}`, await send({ method: 'GET', path: '/v1/denylist', query: [['since', since]], bearer: f.as[role] }), 400, 'VALIDATION_FAILED');
        }
      }
      expect(findings.problems).toEqual([]);
    });
  });

  describe('afterwards', () => {
    it('every refused request left Postgres and Redis exactly as they were', async () => {
      const after = await snapshotStores(app, (key) => LOGIN_ATTEMPT_KEY.test(key));
      expect(after).toEqual(before);
      expect(Object.keys(before.tables).length).toBeGreaterThan(20);
      expect(before.redisKeys).toBeGreaterThan(0);
    });

    it('was no empty sweep', () => {
      expect(requestsSent).toBeGreaterThan(1_500);
    });

    it('gives an injected QR a verdict, as the contract gives every well-formed tap', async () => {
      const findings = new Findings();
      for (const fragment of FRAGMENTS.filter((candidate) => !candidate.includes('\u0000'))) {
        const online = await send({ method: 'POST', path: '/v1/validations', bearer: f.as.validator, body: { ...tap(f, `sweep-qr-${randomUUID()}`), qr: fragment } });
        findings.check(`online tap with ${JSON.stringify(fragment)} as qr`, online, '200 reject INVALID_QR', () =>
          expect({ status: online.status, body: online.body }).toMatchObject({ status: 200, body: { verdict: 'reject', reason: 'INVALID_QR' } }),
        );
        const offline = await send({ method: 'POST', path: '/v1/validations/batch', bearer: f.as.validator, body: { taps: [{ ...tap(f, `sweep-qr-${randomUUID()}`), qr: fragment }] } });
        findings.check(`offline tap with ${JSON.stringify(fragment)} as qr`, offline, '200 reject INVALID_QR', () =>
          expect({ status: offline.status, body: offline.body }).toMatchObject({ status: 200, body: { results: [{ verdict: 'reject', reason: 'INVALID_QR' }] } }),
        );
      }
      expect(findings.problems).toEqual([]);
    });

    it('accepts every baseline body from its caller (so each mutation was refused for its own sake)', async () => {
      const findings = new Findings();
      for (const operation of OPERATIONS) {
        const entry = entryOf(operation);
        if (entry.accepts === undefined) continue;
        const response = await send(callFor(operation, { bearer: sweepCaller(entry) }));
        findings.check(`${operation.key} baseline`, response, String(entry.accepts), () => expect(response.status).toBe(entry.accepts));
      }
      expect(findings.problems).toEqual([]);
    });

    it("keeps its Redis keys in its own db, and still hears a device disabled on another copy through pub/sub", async () => {
      const shared = createClient({ url: process.env.REDIS_URL! });
      await shared.connect();
      try {
        expect(await shared.exists(app.get(GateKeys).tapStream(0))).toBe(0);
      } finally {
        await shared.close();
      }
      expect(await app.get(RedisService).client.exists(app.get(GateKeys).tapStream(0))).toBe(1);

      const devices = () => send({ method: 'GET', path: '/v1/devices/me', bearer: f.listener.bearer });
      expect((await devices()).status).toBe(200);
      const publisher = createClient({ url: redisDbUrl(SWEEP_REDIS_DB) });
      await publisher.connect();
      try {
        await publisher.publish('devices:disabled', f.listener.deviceId);
      } finally {
        await publisher.close();
      }
      let response = await devices();
      for (let attempt = 0; attempt < 50 && response.status === 200; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        response = await devices();
      }
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('DEVICE_DISABLED');
    });
  });
});

/**
 * Account lock-out (#17), with the default limits: on the shared test database, as logins write
 * sessions, which the sweep's final snapshot would count as changes.
 */
describe('account lock-out', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await startTestApp({ TRUST_PROXY: '1', LOGIN_SLOWDOWN_MAX_MS: '100' });
  });
  afterAll(async () => {
    await app?.close();
  });
  const login = (email: string, password: string, address?: string) => {
    const call = request(app.getHttpServer()).post('/v1/auth/login');
    return (address === undefined ? call : call.set('X-Forwarded-For', address)).send({ email, password });
  };

  it('wrong passwords from strangers never keep the owner out: not from a new address after ten, not from a known one after a hundred', async () => {
    const victim = await testAccount(app, 'admin'); // logged in once, from 127.0.0.1
    for (let index = 0; index < 10; index++) await login(victim.email, 'a guess', '203.0.113.7');
    expect((await login(victim.email, victim.password, '198.51.100.7')).status).toBe(200);
    await Promise.all(Array.from({ length: 100 }, (_, index) => login(victim.email, 'a guess', `203.0.113.${20 + (index % 25)}`)));
    expect((await login(victim.email, victim.password)).status).toBe(200);
  }, 30_000);

  it('a guessing address is stopped on that account, even with the right password', async () => {
    const victim = await testAccount(app, 'passenger');
    const statuses: number[] = [];
    for (let index = 0; index < 6; index++) statuses.push((await login(victim.email, 'a guess', '203.0.113.99')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await login(victim.email, victim.password, '203.0.113.99')).status).toBe(429);
  });
});

/** docker-compose.yml, parsed: `docker compose up` must run as production does (#17). */
describe('the production compose file', () => {
  interface Service {
    image?: string;
    build?: unknown;
    user?: string;
    command?: string[];
    environment?: Record<string, string>;
    ports?: string[];
    volumes?: string[];
    healthcheck?: { test: string[] };
  }
  const compose = parseYaml(readFileSync(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const { app, postgres, redis, secrets } = compose.services;
  /** A value as compose resolves it with nothing set in the environment: `${X:-default}` is `default`. */
  const resolved = (value: string | undefined) => value?.replace(/\$\{\w+:-([^}]*)\}/g, '$1').replace(/\$\{\w+\}/g, '');

  it('runs the service in production, with API docs off', () => {
    expect(resolved(app.environment?.NODE_ENV)).toBe('production');
    expect(resolved(app.environment?.DOCS_ENABLED) ?? 'false').toBe('false');
  });

  it('ships no secret: every one is generated at the first start into a volume, or set by the operator', () => {
    const text = JSON.stringify(compose);
    expect(text).not.toMatch(/lienthong-dev|lienthong-compose|do-not-use/);
    for (const name of ['AUTH_TOKEN_KEYS', 'PAYMENT_WEBHOOK_SECRET', 'QR_SIGNING_KEYS', 'METRICS_TOKEN', 'MEDIA_LOOKUP_SECRET', 'TRANSIT_CARD_MASTER_KEY']) {
      expect(resolved(app.environment?.[name]) ?? '').toBe('');
    }
    expect(secrets.command).toEqual(['node', 'dist/cli/compose-setup.js', 'secrets', '/run/lien-thong']);
    expect(app.command?.join(' ')).toMatch(/^sh -c \. \/run\/lien-thong\/app\.env && /);
    expect(postgres.environment?.POSTGRES_PASSWORD).toBeUndefined();
    expect(postgres.environment?.POSTGRES_PASSWORD_FILE).toBe('/run/lien-thong/postgres-admin-password');
  });

  it("gives the service a database role of its own, not Postgres' superuser, and keeps values out of Postgres' log", () => {
    expect(postgres.environment?.POSTGRES_USER).not.toBe(APP_ROLE);
    expect(compose.services['database-setup'].command).toEqual(['node', 'dist/cli/compose-setup.js', 'database', '/run/lien-thong']);
    expect(postgres.command).toEqual(expect.arrayContaining(['log_error_verbosity=terse']));
  });

  it('puts a password on Redis and publishes the API on the loopback address only', () => {
    expect(redis.command).toEqual(['redis-server', '/run/lien-thong/redis.conf']);
    expect(redis.healthcheck?.test.join(' ')).toContain('REDISCLI_AUTH');
    expect(app.ports?.map(resolved)).toEqual(['127.0.0.1:3000:3000']);
  });

  it('generates secrets that production accepts, each readable by its container only, and keeps them across starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lien-thong-compose-'));
    try {
      generateComposeSecrets(dir, false);
      const first = readFileSync(join(dir, 'app.env'), 'utf8');
      for (const file of readdirSync(dir)) expect((statSync(join(dir, file)).mode & 0o777).toString(8)).toBe('400');
      const env = Object.fromEntries(
        [...first.matchAll(/^export (\w+)="\$\{\w+:-(.*)\}"$/gm)].map(([, name, value]) => [name, value]),
      );
      expect(Object.keys(env).sort()).toEqual(['AUTH_TOKEN_KEYS', 'DATABASE_URL', 'MEDIA_LOOKUP_SECRET', 'METRICS_TOKEN', 'PAYMENT_WEBHOOK_SECRET', 'QR_SIGNING_KEYS', 'REDIS_URL', 'TRANSIT_CARD_MASTER_KEY']);
      const config = loadConfig({ NODE_ENV: 'production', ...env });
      expect(new URL(config.database.url).username).toBe(APP_ROLE);
      expect(new URL(config.database.url).password).toBe(readFileSync(join(dir, 'postgres-app-password'), 'utf8'));
      expect(readFileSync(join(dir, 'redis.conf'), 'utf8')).toContain(`requirepass ${decodeURIComponent(new URL(config.redis.url).password)}`);
      expect(config.docsEnabled).toBe(false);
      generateComposeSecrets(dir, false);
      expect(readFileSync(join(dir, 'app.env'), 'utf8')).toBe(first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** `AccountsController.me (0) me` is `AccountsController_me` in the document. */
function operationIdOf(route: DeclaredRoute): string {
  return route.operationId;
}

async function flushSweepRedis(): Promise<void> {
  const redis = createClient({ url: redisDbUrl(SWEEP_REDIS_DB) });
  await redis.connect();
  try {
    await redis.flushDb();
  } finally {
    await redis.close();
  }
}

/** Callers of every role, a victim with an order, a ticket, a claim and a payment, and spoilt tokens. */
async function setUpFixtures(app: NestFastifyApplication): Promise<Fixtures> {
  const http = () => request(app.getHttpServer());
  const ok = (response: request.Response, status: number): request.Response => {
    if (response.status !== status) throw new Error(`fixture: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
    return response;
  };
  const [admin, operator, support, otherSupport, inspectorAccount, attacker, victimAccount, leaving] = await Promise.all([
    testAccount(app, 'admin'),
    testAccount(app, 'operator', { operatorId: 'hmc' }),
    testAccount(app, 'support', { operatorId: 'hmc' }),
    testAccount(app, 'support', { operatorId: 'vinbus' }),
    testAccount(app, 'inspector', { operatorId: 'hmc' }),
    testAccount(app, 'passenger'),
    testAccount(app, 'passenger'),
    testAccount(app, 'passenger'),
  ]);
  const [device, retired, listener] = await Promise.all([testDevice(app), testDevice(app), testDevice(app)]);
  const [handset, retiredHandset] = await Promise.all([testHandset(app, { operatorId: 'hmc' }), testHandset(app, { operatorId: 'hmc' })]);

  const payment = ok(
    await http().post('/v1/wallet/top-ups').set('Authorization', victimAccount.bearer).set('Idempotency-Key', randomUUID()).send({ amount: 100_000 }),
    201,
  ).body as { id: string };
  ok(await http().post(`/v1/payments/sandbox/${payment.id}/complete`).send({}), 200);
  const order = ok(
    await http()
      .post('/v1/orders')
      .set('Authorization', victimAccount.bearer)
      .set('Idempotency-Key', randomUUID())
      .send({ payWith: 'wallet', items: [{ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-yen-nghia' }] }),
    201,
  ).body as { id: string; tickets: Array<{ id: string }> };
  const ticketId = order.tickets[0].id;
  const ticketQr = ok(await http().get(`/v1/tickets/${ticketId}/qr`).query({ format: 'text' }).set('Authorization', victimAccount.bearer), 200).text;
  const claim = ok(
    await http().post('/v1/me/concessions').set('Authorization', victimAccount.bearer).send({ category: 'disabled', evidence: 'Giấy xác nhận khuyết tật số 45' }),
    201,
  ).body as { id: string };

  const medium = ok(
    await http().post('/v1/me/media').set('Authorization', victimAccount.bearer).send({ kind: 'id_card', number: '001085012345', birthDate: '1985-02-03' }),
    201,
  ).body as { id: string };

  // The handset finds the victim without a tap, issues a penalty, and the victim disputes it.
  const accountQr = ok(await http().get('/v1/me/qr').query({ format: 'text' }).set('Authorization', victimAccount.bearer), 200).text;
  const inspection = ok(await http().post('/v1/inspections').set('Authorization', handset.bearer).send({ qr: accountQr, lineId: 'metro-2a' }), 200).body as { id: string };
  const penalty = ok(await http().post('/v1/penalties').set('Authorization', handset.bearer).send({ inspectionId: inspection.id }), 201).body as { id: string };
  ok(await http().post(`/v1/me/penalties/${penalty.id}/dispute`).set('Authorization', victimAccount.bearer).send({ reason: 'Cổng không phản hồi khi tôi chạm' }), 200);

  const spareCardUid = '04A2B3C4D5E6F7';
  ok(await http().post('/v1/admin/transit-cards').set('Authorization', admin.bearer).send({ cards: [{ uid: spareCardUid }] }), 201);

  ok(await http().post('/v1/auth/logout').send({ refreshToken: leaving.refreshToken }), 204);
  ok(await http().post(`/v1/admin/devices/${retired.deviceId}/disable`).set('Authorization', admin.bearer), 200);
  ok(await http().post(`/v1/admin/devices/${retiredHandset.deviceId}/disable`).set('Authorization', admin.bearer), 200);

  const as: Record<Role, string> = {
    passenger: attacker.bearer,
    operator: operator.bearer,
    admin: admin.bearer,
    validator: device.bearer,
    support: support.bearer,
    inspector: handset.bearer,
  };
  const [key] = testConfig().auth.tokenKeys;
  const signed = (subject: string, payload: object) =>
    `Bearer ${jwt.sign(payload, key.secret, { algorithm: 'HS256', keyid: key.kid, issuer: 'lien-thong', audience: 'lien-thong-api', subject, expiresIn: 3600 })}`;
  const today = localDayNumber(Date.now());
  return {
    as,
    forged: Object.fromEntries(ROLES.map((role) => [role, forgedTokens(as[role], key)])) as Record<Role, ForgedTokens>,
    victim: { ...victimAccount, orderId: order.id, ticketId, ticketQr, claimId: claim.id, paymentId: payment.id, mediumId: medium.id, penaltyId: penalty.id },
    extra: [
      { label: "an inspector's account", role: 'inspector', bearer: inspectorAccount.bearer },
      { label: 'a support agent of vinbus', role: 'support', bearer: otherSupport.bearer },
    ],
    otherSupport: otherSupport.bearer,
    otherRider: attacker.id,
    spareCardUid,
    disabledHandset: retiredHandset.bearer,
    crossKind: {
      handsetAsValidator: signed(handset.deviceId, { role: 'validator', op: 'hmc', line: 'metro-2a', stn: '2a-cat-linh' }),
      gateAsHandset: signed(device.deviceId, { role: 'inspector', op: 'hmc', dev: true }),
    },
    device,
    revoked: leaving.bearer,
    disabled: retired.bearer,
    listener,
    freshEmail: `sweep-${randomUUID()}@test.lienthong.local`,
    yesterday: localDate(today - 1),
    later: (days) => new Date(Date.now() + days * 24 * 3600 * 1000).toISOString(),
  };
}
