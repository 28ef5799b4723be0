import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { upsertAccount } from '../../src/accounts/account-seeder';
import { PasswordHasher } from '../../src/accounts/password-hasher';
import { testAccount } from '../support/auth';
import { testConfig } from '../support/test-app';
import { expectError, useTestApp } from '../support/http';

const uniqueEmail = () => `rider-${randomUUID()}@example.vn`;
const PASSWORD = 'một mật khẩu đủ dài';

describe('accounts over HTTP', () => {
  const { app, http } = useTestApp();


  async function registerAndLogin(email = uniqueEmail()) {
    await http().post('/v1/auth/register').send({ email, password: PASSWORD, fullName: 'Trần Văn Test' }).expect(201);
    const login = await http().post('/v1/auth/login').send({ email, password: PASSWORD }).expect(200);
    return { email, ...(login.body as { accessToken: string; refreshToken: string; expiresIn: number }) };
  }

  describe('registration', () => {
    it('creates a passenger with a normalised email', async () => {
      const email = uniqueEmail();
      const response = await http()
        .post('/v1/auth/register')
        .send({ email: email.toUpperCase(), password: PASSWORD, fullName: 'Lê Thị Test' })
        .expect(201);
      expect(response.body).toEqual({ id: expect.any(String), email, riderCategory: 'adult' });
    });

    it('refuses an email taken in another case with 409 EMAIL_TAKEN', async () => {
      const email = uniqueEmail();
      await http().post('/v1/auth/register').send({ email, password: PASSWORD, fullName: 'A' }).expect(201);
      expectError(await http().post('/v1/auth/register').send({ email: ` ${email.toUpperCase()}`.trim(), password: PASSWORD, fullName: 'B' }), 409, 'EMAIL_TAKEN');
    });

    it('refuses a weak password with 400 WEAK_PASSWORD naming the problem, without echoing it', async () => {
      const response = await http().post('/v1/auth/register').send({ email: uniqueEmail(), password: 'short1', fullName: 'A' });
      expectError(response, 400, 'WEAK_PASSWORD');
      expect(response.body.error.details).toEqual([{ field: 'password', problem: 'must be at least 12 characters long' }]);
      expect(JSON.stringify(response.body)).not.toContain('short1');
    });

    it('rejects malformed input and unknown fields', async () => {
      const response = await http().post('/v1/auth/register').send({ email: 'not-an-email', password: PASSWORD, fullName: 'A', role: 'admin' });
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(response.body.error.details).toEqual(
        expect.arrayContaining([expect.objectContaining({ field: 'email' }), expect.objectContaining({ field: 'role' })]),
      );
    });

    it('grants nothing for a self-declared date of birth', async () => {
      const email = uniqueEmail();
      await http().post('/v1/auth/register').send({ email, password: PASSWORD, fullName: 'Cụ Test', dateOfBirth: '1940-01-01' }).expect(201);
      const { accessToken } = (await http().post('/v1/auth/login').send({ email, password: PASSWORD }).expect(200)).body;
      const me = await http().get('/v1/me').set('Authorization', `Bearer ${accessToken}`).expect(200);
      expect(me.body).toMatchObject({ email, riderCategory: 'adult', balance: 0, currency: 'VND' });
      expect(me.body.verifiedDateOfBirth).toBeUndefined();
    });
  });

  describe('login', () => {
    it('returns a short-lived JWT with kid, issuer, audience and expiry, and an opaque refresh token', async () => {
      const { accessToken, refreshToken, expiresIn } = await registerAndLogin();
      const config = testConfig();
      const decoded = jwt.decode(accessToken, { complete: true });
      expect(decoded?.header).toMatchObject({ alg: 'HS256', kid: config.auth.tokenKeys[0].kid });
      const payload = decoded?.payload as jwt.JwtPayload;
      expect(payload).toMatchObject({ iss: config.auth.issuer, aud: config.auth.audience, role: 'passenger' });
      expect(payload.exp! - payload.iat!).toBe(config.auth.accessTokenTtlSeconds);
      expect(expiresIn).toBe(config.auth.accessTokenTtlSeconds);
      expect(refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('gives the same 401 for an unknown email and a wrong password, each after one argon2id verification', async () => {
      const { email } = await registerAndLogin();
      // Not timed (login limits add their own delays to repeated failures): the verifications are counted instead.
      const verify = jest.spyOn(app().get(PasswordHasher), 'verify');
      try {
        const wrong = await http().post('/v1/auth/login').send({ email, password: 'wrong password 123' });
        const unknown = await http().post('/v1/auth/login').send({ email: uniqueEmail(), password: 'wrong password 123' });
        expectError(wrong, 401, 'INVALID_CREDENTIALS');
        expect({ ...unknown.body, requestId: 'x' }).toEqual({ ...wrong.body, requestId: 'x' });
        // Both spend one verification: against the account's hash, and against the decoy without an account.
        expect(verify.mock.calls.map(([storedHash]) => (storedHash === undefined ? 'decoy' : 'account'))).toEqual(['account', 'decoy']);
        await expect(verify.mock.results[1].value).resolves.toBe(false);
      } finally {
        verify.mockRestore();
      }
    });
  });

  describe('tokens', () => {
    it('reads the profile with the access token; 401 without one', async () => {
      const { email, accessToken } = await registerAndLogin();
      const me = await http().get('/v1/me').set('Authorization', `Bearer ${accessToken}`).expect(200);
      expect(me.body).toEqual({
        id: expect.any(String),
        email,
        fullName: 'Trần Văn Test',
        role: 'passenger',
        riderCategory: 'adult',
        balance: 0,
        currency: 'VND',
      });
      expectError(await http().get('/v1/me'), 401, 'UNAUTHENTICATED');
      expectError(await http().get('/v1/me').set('Authorization', `Basic ${accessToken}`), 401, 'UNAUTHENTICATED');
    });

    it('rotates refresh tokens, and reuse of a spent one ends the whole session', async () => {
      const first = await registerAndLogin();
      const second = (await http().post('/v1/auth/refresh').send({ refreshToken: first.refreshToken }).expect(200)).body;
      expect(second.refreshToken).not.toBe(first.refreshToken);
      await http().get('/v1/me').set('Authorization', `Bearer ${second.accessToken}`).expect(200);
      const third = (await http().post('/v1/auth/refresh').send({ refreshToken: second.refreshToken }).expect(200)).body;

      // The first token was spent: presenting it again means it was copied.
      expectError(await http().post('/v1/auth/refresh').send({ refreshToken: first.refreshToken }), 401, 'REFRESH_TOKEN_REUSED');
      expectError(await http().post('/v1/auth/refresh').send({ refreshToken: third.refreshToken }), 401, 'TOKEN_REVOKED');
      expectError(await http().get('/v1/me').set('Authorization', `Bearer ${third.accessToken}`), 401, 'TOKEN_REVOKED');
      // Other sessions of the same account are untouched.
      const other = (await http().post('/v1/auth/login').send({ email: first.email, password: PASSWORD }).expect(200)).body;
      await http().get('/v1/me').set('Authorization', `Bearer ${other.accessToken}`).expect(200);
    });

    it('refuses an unknown refresh token', async () => {
      expectError(await http().post('/v1/auth/refresh').send({ refreshToken: 'x'.repeat(43) }), 401, 'TOKEN_INVALID');
    });

    it('logs out: the refresh token and its access tokens stop working', async () => {
      const session = await registerAndLogin();
      await http().post('/v1/auth/logout').send({ refreshToken: session.refreshToken }).expect(204);
      await http().post('/v1/auth/logout').send({ refreshToken: session.refreshToken }).expect(204);
      expectError(await http().post('/v1/auth/refresh').send({ refreshToken: session.refreshToken }), 401, 'TOKEN_REVOKED');
      expectError(await http().get('/v1/me').set('Authorization', `Bearer ${session.accessToken}`), 401, 'TOKEN_REVOKED');
    });

    it('refuses expired, tampered, unsigned and foreign-key tokens with 401', async () => {
      const { accessToken } = await registerAndLogin();
      const { auth } = testConfig();
      const [key] = auth.tokenKeys;
      const payload = jwt.decode(accessToken) as jwt.JwtPayload;
      const sign = (claims: object, secret = key.secret, kid = key.kid) => jwt.sign(claims, secret, { algorithm: 'HS256', keyid: kid });
      const me = (token: string) => http().get('/v1/me').set('Authorization', `Bearer ${token}`);

      expectError(await me(sign({ ...payload, exp: Math.floor(Date.now() / 1000) - 60 })), 401, 'TOKEN_EXPIRED');
      const [header, body, signature] = accessToken.split('.');
      const forged = Buffer.from(JSON.stringify({ ...payload, role: 'admin' })).toString('base64url');
      expectError(await me(`${header}.${forged}.${signature}`), 401, 'TOKEN_INVALID');
      expectError(await me(`${header}.${body}.${signature.slice(0, -2)}AA`), 401, 'TOKEN_INVALID');
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: key.kid })).toString('base64url')}.${body}.`;
      expectError(await me(unsigned), 401, 'TOKEN_INVALID');
      expectError(await me(sign(payload, 'another secret that is at least 32 characters')), 401, 'TOKEN_INVALID');
      expectError(await me(sign(payload, key.secret, 'unknown-kid')), 401, 'TOKEN_INVALID');
      expectError(await me(sign({ ...payload, aud: 'someone-else' })), 401, 'TOKEN_INVALID');
      expectError(await me('garbage'), 401, 'TOKEN_INVALID');
    });

    it('ignores a bad token on a public route', async () => {
      await http().get('/v1/lines').set('Authorization', 'Bearer garbage').expect(200);
    });
  });

  describe('roles and ownership', () => {
    it('refuses a passenger on an admin route with 403', async () => {
      const passenger = await testAccount(app(), 'passenger');
      expectError(await http().get('/v1/admin/concessions').set('Authorization', passenger.bearer), 403, 'FORBIDDEN');
      const operator = await testAccount(app(), 'operator');
      expectError(await http().post('/v1/admin/devices').set('Authorization', operator.bearer).send({}), 403, 'FORBIDDEN');
    });

    it("never shows a passenger another passenger's claim", async () => {
      const owner = await testAccount(app(), 'passenger');
      const other = await testAccount(app(), 'passenger');
      const claim = (
        await http()
          .post('/v1/me/concessions')
          .set('Authorization', owner.bearer)
          .send({ category: 'disabled', evidence: 'Giấy xác nhận khuyết tật số 42-SECRET' })
          .expect(201)
      ).body;
      await http().get(`/v1/me/concessions/${claim.id}`).set('Authorization', owner.bearer).expect(200);
      const response = await http().get(`/v1/me/concessions/${claim.id}`).set('Authorization', other.bearer);
      expectError(response, 404, 'NOT_FOUND');
      expect(JSON.stringify(response.body)).not.toContain('42-SECRET');
      const list = await http().get('/v1/me/concessions').set('Authorization', other.bearer).expect(200);
      expect(list.body).toEqual([]);
      expectError(await http().get('/v1/me/concessions/not-a-uuid').set('Authorization', other.bearer), 404, 'NOT_FOUND');
    });

    it("refuses an operator's staff another operator's data with 403, and serves their own", async () => {
      const staff = await testAccount(app(), 'operator', { operatorId: 'hmc' });
      expectError(await http().get('/v1/devices').query({ operatorId: 'transerco' }).set('Authorization', staff.bearer), 403, 'OPERATOR_SCOPE');
      const own = await http().get('/v1/devices').query({ operatorId: 'hmc' }).set('Authorization', staff.bearer).expect(200);
      expect(own.body.every((device: { operatorId: string }) => device.operatorId === 'hmc')).toBe(true);
    });
  });

  describe('concessions', () => {
    it('approving a claim changes the category the passenger rides at, and the fare quoted', async () => {
      const rider = await testAccount(app(), 'passenger');
      const admin = await testAccount(app(), 'admin');
      const line = (await http().get('/v1/lines/metro-2a').expect(200)).body as { stations: Array<{ id: string }> };
      const quote = () =>
        http()
          .get('/v1/fares/quote')
          .query({ lineId: 'metro-2a', from: line.stations[0].id, to: line.stations.at(-1)!.id })
          .set('Authorization', rider.bearer)
          .expect(200);
      const adultFare = (await quote()).body.amount as number;
      expect(adultFare).toBeGreaterThan(0);

      const claim = (
        await http()
          .post('/v1/me/concessions')
          .set('Authorization', rider.bearer)
          .send({ category: 'elderly', evidence: 'CCCD 001050012345', dateOfBirth: '1950-03-01' })
          .expect(201)
      ).body;
      expect(claim).toMatchObject({ category: 'elderly', status: 'pending', dateOfBirth: '1950-03-01' });
      expectError(
        await http().post('/v1/me/concessions').set('Authorization', rider.bearer).send({ category: 'elderly', evidence: 'again', dateOfBirth: '1950-03-01' }),
        409,
        'CONCESSION_CLAIM_PENDING',
      );

      const pending = await http().get('/v1/admin/concessions').query({ status: 'pending', limit: 100 }).set('Authorization', admin.bearer).expect(200);
      expect(pending.body.map((c: { id: string }) => c.id)).toContain(claim.id);

      const decided = await http().post(`/v1/admin/concessions/${claim.id}/decision`).set('Authorization', admin.bearer).send({ approve: true }).expect(200);
      expect(decided.body).toMatchObject({ id: claim.id, status: 'approved', decidedAt: expect.any(String) });
      expectError(
        await http().post(`/v1/admin/concessions/${claim.id}/decision`).set('Authorization', admin.bearer).send({ approve: false }),
        409,
        'CONCESSION_ALREADY_DECIDED',
      );

      const me = await http().get('/v1/me').set('Authorization', rider.bearer).expect(200);
      expect(me.body).toMatchObject({ riderCategory: 'elderly', verifiedDateOfBirth: '1950-03-01' });
      // The same access token: the guard reads the category fresh on every request.
      expect((await quote()).body.amount).toBe(0);
    });

    it('an approval with an expiry, a rejection, and claims that do not qualify', async () => {
      const rider = await testAccount(app(), 'passenger');
      const admin = await testAccount(app(), 'admin');
      const claim = async (body: object) => http().post('/v1/me/concessions').set('Authorization', rider.bearer).send(body);
      const decide = (id: string, body: object) => http().post(`/v1/admin/concessions/${id}/decision`).set('Authorization', admin.bearer).send(body);

      expectError(await claim({ category: 'elderly', evidence: 'CCCD' }), 400, 'VALIDATION_FAILED');
      expectError(await claim({ category: 'elderly', evidence: 'CCCD', dateOfBirth: '1990-01-01' }), 422, 'CONCESSION_NOT_ELIGIBLE');
      expectError(await claim({ category: 'adult', evidence: 'none' }), 400, 'VALIDATION_FAILED');

      const poor = (await claim({ category: 'poor_household', evidence: 'Sổ hộ nghèo 2026' })).body;
      expectError(await decide(poor.id, { approve: false, validUntil: '2030-01-01T00:00:00+07:00' }), 400, 'VALIDATION_FAILED');
      expectError(await decide(poor.id, { approve: true, validUntil: '2020-01-01T00:00:00+07:00' }), 400, 'VALIDATION_FAILED');
      const rejected = await decide(poor.id, { approve: false, reason: 'Sổ đã hết hạn' }).expect(200);
      expect(rejected.body).toMatchObject({ status: 'rejected', decisionReason: 'Sổ đã hết hạn' });
      expect((await http().get('/v1/me').set('Authorization', rider.bearer)).body.riderCategory).toBe('adult');

      const student = (await claim({ category: 'priority', evidence: 'Thẻ sinh viên ĐHBK' })).body;
      const approved = await decide(student.id, { approve: true, validUntil: '2099-06-30T23:59:59+07:00' }).expect(200);
      expect(approved.body.validUntil).toBe('2099-06-30T16:59:59.000Z');
      expect((await http().get('/v1/me').set('Authorization', rider.bearer)).body.riderCategory).toBe('priority');
      expectError(await decide(randomUUID(), { approve: true }), 404, 'NOT_FOUND');
    });
  });
});

describe('login rate limiting', () => {
  const { app, http } = useTestApp({ TRUST_PROXY: '127.0.0.1', LOGIN_ATTEMPTS_PER_ACCOUNT: '3', LOGIN_ATTEMPTS_PER_ADDRESS: '6' });
  // The app trusts X-Forwarded-For from the test client, so each test can be its own address.
  const address = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`;

  /** An account that has not logged in yet (testAccount would log in from the shared loopback address). */
  async function newRider(): Promise<{ email: string; password: string }> {
    const rider = { email: uniqueEmail(), password: PASSWORD };
    await upsertAccount(app().get(DataSource), { ...rider, fullName: 'Rate Limited', role: 'passenger' });
    return rider;
  }
  const login = (from: string, email: string, password: string) => http().post('/v1/auth/login').set('X-Forwarded-For', from).send({ email, password });

  it('limits attempts per account, across addresses, with 429 and Retry-After', async () => {
    const rider = await newRider();
    for (let i = 0; i < 3; i += 1) expect((await login(address(), rider.email, 'wrong password 123')).status).toBe(401);
    const limited = await login(address(), rider.email, rider.password);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
  });

  it('limits unknown emails alike, so the limit reveals nothing', async () => {
    const email = uniqueEmail();
    for (let i = 0; i < 3; i += 1) expect((await login(address(), email, 'wrong password 123')).status).toBe(401);
    expect((await login(address(), email, 'wrong password 123')).status).toBe(429);
  });

  it('a successful login clears the account count', async () => {
    const rider = await newRider();
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < 2; i += 1) expect((await login(address(), rider.email, 'wrong password 123')).status).toBe(401);
      expect((await login(address(), rider.email, rider.password)).status).toBe(200);
    }
  });

  it('limits attempts per address, across accounts', async () => {
    // An address no other suite uses (they share Redis and its login counters).
    const from = `100.64.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
    for (let i = 0; i < 6; i += 1) expect((await login(from, uniqueEmail(), 'wrong password 123')).status).toBe(401);
    const limited = await login(from, uniqueEmail(), 'wrong password 123');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await login(address(), uniqueEmail(), 'wrong password 123')).status).toBe(401);
  });
});
