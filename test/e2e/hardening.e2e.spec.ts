import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { testAccount, testDevice, type TestAccount, type TestDevice } from '../support/auth';
import { expectError, useTestApp } from '../support/http';
import { testConfig } from '../support/test-app';

/**
 * Issue #17: what an outside attack found outside the gate path. Each test here failed on the main
 * branch of the day the issue was filed.
 */

/** `{"email": [[[…]]]}` nested `depth` levels deep. */
function nested(depth: number): string {
  return `{"email":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
}

/** Sends raw bytes on a fresh connection and returns the whole answer (the server closes it). */
function rawExchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer')));
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

function bodyOf(raw: string): { error: { code: string; message: string; details: unknown[] }; requestId: string } {
  return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string; details: unknown[] }; requestId: string };
}

describe('hardening (issue #17)', () => {
  const { app, http } = useTestApp({ METRICS_TOKEN: 'metrics-token-for-the-hardening-spec-0123456789' });
  let admin: TestAccount;
  let passenger: TestAccount;
  let device: TestDevice;
  let port: number;

  beforeAll(async () => {
    [admin, passenger, device] = await Promise.all([testAccount(app(), 'admin'), testAccount(app(), 'passenger'), testDevice(app())]);
    await app().listen(0, '127.0.0.1');
    port = (app().getHttpServer().address() as AddressInfo).port;
  });

  describe('deep JSON nesting', () => {
    it.each([33, 2_000, 50_000])('refuses a body %i levels deep with 400 JSON_TOO_DEEP, before anything walks it', async (depth) => {
      const response = await http().post('/v1/auth/login').set('Content-Type', 'application/json').send(nested(depth));
      expectError(response, 400, 'JSON_TOO_DEEP');
    });

    it('refuses it on the gate route too', async () => {
      const response = await http().post('/v1/validations').set('Authorization', device.bearer).set('Content-Type', 'application/json').send(nested(2_000));
      expectError(response, 400, 'JSON_TOO_DEEP');
    });

    it('lets a body of the configured depth reach validation', async () => {
      const response = await http().post('/v1/auth/login').set('Content-Type', 'application/json').send(nested(32));
      expectError(response, 400, 'VALIDATION_FAILED');
    });

    it('counts brackets inside strings as text', async () => {
      const response = await http().post('/v1/auth/login').send({ email: '['.repeat(100), password: '{'.repeat(100) });
      expectError(response, 401, 'INVALID_CREDENTIALS');
    });
  });

  describe('edge values that were 500s', () => {
    it.each(['0001-01-01', '0000-01-01', '9999-12-31', '1899-12-31'])('refuses the settlement day %s with 400', async (date) => {
      expectError(await http().get('/v1/settlements/daily').query({ date }).set('Authorization', admin.bearer), 400, 'VALIDATION_FAILED');
      expectError(await http().get('/v1/settlements/daily.csv').query({ date }).set('Authorization', admin.bearer), 400, 'VALIDATION_FAILED');
      expectError(await http().get('/v1/fare-transactions').query({ date }).set('Authorization', admin.bearer), 400, 'VALIDATION_FAILED');
      expectError(await http().post(`/v1/settlements/daily/${date}/close`).set('Authorization', admin.bearer), 400, 'VALIDATION_FAILED');
    });

    it.each(['MXwA', Buffer.from('1|\u0001').toString('base64url'), Buffer.from('1|x\u0000y').toString('base64url'), Buffer.from('1|\u00ff').toString('base64url')])(
      'refuses the denylist cursor %s (a control character or no id) with 400',
      async (since) => {
        expectError(await http().get('/v1/denylist').query({ since }).set('Authorization', admin.bearer), 400, 'VALIDATION_FAILED');
      },
    );
  });

  describe('access tokens', () => {
    it('refuses a token signed with our key but without exp', async () => {
      const claims = jwt.decode(passenger.accessToken) as jwt.JwtPayload;
      delete claims.exp;
      const [key] = testConfig().auth.tokenKeys;
      const forever = jwt.sign(claims, key.secret, { algorithm: 'HS256', keyid: key.kid });
      expectError(await http().get('/v1/me').set('Authorization', `Bearer ${forever}`), 401, 'TOKEN_INVALID');
      const validator = jwt.decode(device.bearer.slice('Bearer '.length)) as jwt.JwtPayload;
      delete validator.exp;
      const foreverDevice = jwt.sign(validator, key.secret, { algorithm: 'HS256', keyid: key.kid });
      expectError(await http().get('/v1/devices/me').set('Authorization', `Bearer ${foreverDevice}`), 401, 'TOKEN_INVALID');
    });
  });

  describe('amending a product', () => {
    const versions = async () => Number((await app().get(DataSource).query(`SELECT count(*) FROM product_versions WHERE product_id = 'metro-month'`))[0].count);

    it.each([['null', 'null'], ['{}', '{}'], ['only effectiveFrom', JSON.stringify({ effectiveFrom: new Date(Date.now() + 40 * 86_400_000).toISOString() })]])(
      'refuses %s with 400 and writes no version',
      async (_, body) => {
        const before = await versions();
        const response = await http().patch('/v1/admin/products/metro-month').set('Authorization', admin.bearer).set('Content-Type', 'application/json').send(body);
        expectError(response, 400, 'EMPTY_CHANGE');
        expect(await versions()).toBe(before);
      },
    );
  });

  describe('formula injection', () => {
    it.each(['+HYPERLINK("http://evil.example","click")', '=1+2', '-2+3', '@SUM(1)', '\tx', '\rx'])('refuses the product name %j', async (name) => {
      const response = await http()
        .patch('/v1/admin/products/metro-month')
        .set('Authorization', admin.bearer)
        .send({ name, effectiveFrom: new Date(Date.now() + 41 * 86_400_000).toISOString() });
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(response.body.error.details).toEqual(expect.arrayContaining([{ field: 'name', problem: expect.stringMatching(/start/) }]));
    });
  });

  describe('error shapes', () => {
    it('answers a body that is not UTF-8 with MALFORMED_JSON in the contract shape', async () => {
      const bytes = Buffer.concat([Buffer.from('{"email":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('","password":"x"}')]);
      const head = `POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`;
      const response = await rawExchange(port, Buffer.concat([Buffer.from(head), bytes]));
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
      const body = bodyOf(response);
      expect(body).toEqual({ error: { code: 'MALFORMED_JSON', message: expect.stringMatching(/UTF-8/), details: [] }, requestId: expect.any(String) });
      expect(response).toMatch(new RegExp(`x-request-id: ${body.requestId}`, 'i'));
    });

    it('names a __proto__ key as a refused key', async () => {
      const response = await http().post('/v1/auth/login').set('Content-Type', 'application/json').send('{"email":"a@b.vn","password":"x","__proto__":{"role":"admin"}}');
      expectError(response, 400, 'REFUSED_KEY');
      expect(response.body.error.message).toMatch(/__proto__/);
    });

    it('answers text/plain to a JSON route with 415', async () => {
      const response = await http().post('/v1/auth/login').set('Content-Type', 'text/plain').send('{"email":"a@b.vn","password":"x"}');
      expectError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers TRACE with 405', async () => {
      const response = await rawExchange(port, 'TRACE /v1/lines HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      expect(response).toMatch(/^HTTP\/1\.1 405 /);
      const body = bodyOf(response);
      expect(body.error.code).toBe('METHOD_NOT_ALLOWED');
      expect(body.requestId).toEqual(expect.any(String));
      expect(response).toMatch(new RegExp(`x-request-id: ${body.requestId}`, 'i'));
    });

    it('answers malformed HTTP in the contract shape with a request id', async () => {
      const response = await rawExchange(port, 'GET /v1/lines HTTP/1.1\r\nHost: localhost\r\nBad header without colon\r\n\r\n');
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
      const body = bodyOf(response);
      expect(body).toEqual({ error: { code: 'BAD_REQUEST', message: expect.any(String), details: [] }, requestId: expect.any(String) });
      expect(body.requestId.length).toBeGreaterThan(0);
    });
  });

  describe('leaks', () => {
    it('serves /metrics only with its token', async () => {
      expectError(await http().get('/metrics'), 401, 'UNAUTHENTICATED');
      expectError(await http().get('/metrics').set('Authorization', 'Bearer not-the-token'), 401, 'UNAUTHENTICATED');
      expectError(await http().get('/metrics').set('Authorization', passenger.bearer), 401, 'UNAUTHENTICATED');
      const scrape = await http().get('/metrics').set('Authorization', 'Bearer metrics-token-for-the-hardening-spec-0123456789');
      expect(scrape.status).toBe(200);
      expect(scrape.text).toContain('http_requests');
    });
  });
});

describe('registration', () => {
  const { app, http } = useTestApp({ TRUST_PROXY: '1', REGISTRATIONS_PER_ADDRESS: '5' });
  const password = 'tàu điện Cát Linh 2A';
  let address = 0;
  /** Each test registers from an address of its own, so the per-address limit only bites where it is tested. */
  const from = () => `198.51.100.${++address}`;

  it.each([
    ['full-width letters', (local: string) => `ａ${local.slice(1)}`],
    ['a trailing zero-width space', (local: string) => `${local}\u200b`],
    ['a dotless i', (local: string) => local.replace('i', 'ı')],
    ['a Cyrillic а', (local: string) => local.replace('a', 'а')],
    ['upper case', (local: string) => local.toUpperCase()],
  ])('refuses a look-alike of an existing account: %s', async (_, disguise) => {
    const local = `admin${randomUUID().slice(0, 8)}`;
    const domain = 'test.lienthong.local';
    const ip = from();
    await http().post('/v1/auth/register').set('X-Forwarded-For', ip).send({ email: `${local}@${domain}`, password, fullName: 'Quản trị' }).expect(201);
    const response = await http().post('/v1/auth/register').set('X-Forwarded-For', ip).send({ email: `${disguise(local)}@${domain}`, password, fullName: 'Kẻ giả danh' });
    expect([400, 409]).toContain(response.status);
    expect(['EMAIL_TAKEN', 'VALIDATION_FAILED']).toContain(response.body.error.code);
    const [{ count }] = await app().get(DataSource).query(`SELECT count(*)::int AS count FROM accounts WHERE email LIKE $1`, [`%${local.slice(6)}%`]);
    expect(count).toBe(1);
  });

  it.each(['lan\u200b@example.vn', 'lan\u00ad@example.vn', 'la\u202en@example.vn', 'lan@exam\u200dple.vn'])('refuses invisible characters in %j', async (email) => {
    expectError(await http().post('/v1/auth/register').set('X-Forwarded-For', from()).send({ email, password, fullName: 'Lan' }), 400, 'VALIDATION_FAILED');
  });

  it('stores the NFKC form', async () => {
    const local = `ｌａｎ${randomUUID().slice(0, 8)}`;
    const response = await http().post('/v1/auth/register').set('X-Forwarded-For', from()).send({ email: `${local}@example.vn`, password, fullName: 'Lan' });
    expect(response.status).toBe(201);
    expect(response.body.email).toBe(`${local.normalize('NFKC')}@example.vn`);
  });

  it('limits registrations per address', async () => {
    const ip = from();
    const statuses: number[] = [];
    for (let index = 0; index < 7; index++) {
      const response = await http().post('/v1/auth/register').set('X-Forwarded-For', ip).send({ email: `many-${randomUUID()}@example.vn`, password, fullName: 'Lan' });
      statuses.push(response.status);
      if (response.status === 429) {
        expectError(response, 429, 'RATE_LIMITED');
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429, 429]);
    const elsewhere = await http().post('/v1/auth/register').set('X-Forwarded-For', from()).send({ email: `elsewhere-${randomUUID()}@example.vn`, password, fullName: 'Lan' });
    expect(elsewhere.status).toBe(201);
  });
});

describe('login lock-out, with the default limits', () => {
  const { app, http } = useTestApp({ TRUST_PROXY: '1' });
  const login = (email: string, password: string, ip?: string) => {
    const call = http().post('/v1/auth/login');
    return (ip === undefined ? call : call.set('X-Forwarded-For', ip)).send({ email, password });
  };

  it('does not let strangers lock a victim out: ten wrong passwords from one address, the right one from another still logs in', async () => {
    const victim = await testAccount(app(), 'passenger');
    for (let index = 0; index < 10; index++) await login(victim.email, 'wrong password, attacker', '203.0.113.10');
    expect((await login(victim.email, victim.password, '203.0.113.20')).status).toBe(200);
  });

  it('lets the victim in from an address that logged in before, even after many wrong passwords from many addresses', async () => {
    const victim = await testAccount(app(), 'passenger'); // logged in once from 127.0.0.1
    const attacks: Array<Promise<unknown>> = [];
    for (let index = 0; index < 60; index++) attacks.push(login(victim.email, 'wrong password, attacker', `203.0.113.${50 + (index % 12)}`));
    await Promise.all(attacks);
    expect((await login(victim.email, victim.password)).status).toBe(200);
  }, 30_000);
});

describe('login lock-out', () => {
  const { app, http } = useTestApp({
    TRUST_PROXY: '1',
    LOGIN_ATTEMPTS_PER_PAIR: '5',
    LOGIN_ATTEMPTS_PER_ACCOUNT: '20',
    LOGIN_ATTEMPTS_PER_ADDRESS: '1000',
    LOGIN_SLOWDOWN_MAX_MS: '200',
  });
  const login = (email: string, password: string, ip: string) => http().post('/v1/auth/login').set('X-Forwarded-For', ip).send({ email, password });


  it('limits guesses per account and address: the attacking address gets 429 even with the right password', async () => {
    const victim = await testAccount(app(), 'passenger');
    const statuses: number[] = [];
    for (let index = 0; index < 7; index++) statuses.push((await login(victim.email, 'wrong password', '203.0.113.30')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const locked = await login(victim.email, victim.password, '203.0.113.30');
    expectError(locked, 429, 'RATE_LIMITED');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('slows, without blocking, a known-good address once the account is attacked from many addresses', async () => {
    const victim = await testAccount(app(), 'passenger');
    // Known good: it logged in before (testAccount logs in once without X-Forwarded-For, from 127.0.0.1).
    expect((await login(victim.email, victim.password, '192.0.2.1')).status).toBe(200);
    // 30 wrong passwords from 10 addresses: the account's ceiling (20) is passed, no pair's limit (5) is.
    for (let index = 0; index < 30; index++) await login(victim.email, 'wrong password', `203.0.113.${100 + (index % 10)}`);
    const stranger = await login(victim.email, victim.password, '203.0.113.200');
    expectError(stranger, 429, 'RATE_LIMITED');
    const started = Date.now();
    expect((await login(victim.email, victim.password, '192.0.2.1')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });

  it('puts progressive delays on wrong passwords from one pair', async () => {
    const victim = await testAccount(app(), 'passenger');
    const times: number[] = [];
    for (let index = 0; index < 4; index++) {
      const started = Date.now();
      await login(victim.email, 'wrong password', '203.0.113.40');
      times.push(Date.now() - started);
    }
    expect(times[3]).toBeGreaterThan(times[0] + 50);
  });
});
