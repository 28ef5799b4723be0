import jwt from 'jsonwebtoken';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { testAccount } from '../support/auth';
import { startTestApp, testConfig } from '../support/test-app';
import { expectError, useTestApp } from '../support/http';

describe('validator devices over HTTP', () => {
  const { app, http } = useTestApp();
  let admin: string;

  beforeAll(async () => {
    admin = (await testAccount(app(), 'admin')).bearer;
  });


  const register = (body: object) => http().post('/v1/admin/devices').set('Authorization', admin).send(body);
  const exchange = (deviceId: string, secret: string) => http().post('/v1/devices/token').send({ deviceId, secret });

  it('registers a gate, shows its secret once and keeps only a hash', async () => {
    const response = await register({ operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-cat-linh', kind: 'gate' }).expect(201);
    const { deviceId, secret } = response.body;
    expect(response.body).toEqual({
      deviceId: expect.any(String),
      secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      operatorId: 'hmc',
      lineId: 'metro-2a',
      stationId: '2a-cat-linh',
      kind: 'gate',
      createdAt: expect.any(String),
    });
    const [stored] = await app().get(DataSource).query('SELECT to_jsonb(d) AS row FROM devices d WHERE id = $1', [deviceId]);
    expect(JSON.stringify(stored.row)).not.toContain(secret);
    const listed = await http().get('/v1/devices').query({ operatorId: 'hmc' }).set('Authorization', admin).expect(200);
    expect(listed.body).toContainEqual(expect.objectContaining({ deviceId }));
    expect(JSON.stringify(listed.body)).not.toContain(secret);
  });

  it('registers a bus validator without a station', async () => {
    const response = await register({ operatorId: 'transerco', lineId: 'bus-32', kind: 'bus' }).expect(201);
    expect(response.body.stationId).toBeUndefined();
  });

  it('refuses a device that does not fit its operator, line or station', async () => {
    const problems = async (body: object) => {
      const response = await register(body);
      expectError(response, 400, 'VALIDATION_FAILED');
      return response.body.error.details.map((detail: { field: string }) => detail.field).sort();
    };
    expect(await problems({ operatorId: 'hmc', lineId: 'metro-2a', kind: 'gate' })).toEqual(['stationId']);
    expect(await problems({ operatorId: 'transerco', lineId: 'metro-2a', stationId: '2a-cat-linh', kind: 'gate' })).toEqual(['lineId']);
    expect(await problems({ operatorId: 'hmc', lineId: 'metro-2a', stationId: '3-nhon', kind: 'gate' })).toEqual(['stationId']);
    expect(await problems({ operatorId: 'hmc', lineId: 'metro-9', stationId: '2a-cat-linh', kind: 'gate' })).toEqual(['lineId']);
    expect(await problems({ operatorId: 'nobody', lineId: 'bus-32', kind: 'bus' })).toEqual(['lineId', 'operatorId']);
    expect(await problems({ operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-cat-linh', kind: 'bus' })).toEqual(['kind', 'stationId']);
    expect(await problems({ operatorId: 'transerco', kind: 'bus' })).toEqual(['lineId']);
    expect(await problems({ operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-cat-linh', kind: 'inspector' })).toEqual(['lineId', 'stationId']);
    expect(await problems({ operatorId: 'nobody', kind: 'inspector' })).toEqual(['operatorId']);
  });

  it('exchanges the secret for a validator token; a wrong secret or unknown device is 401', async () => {
    const { deviceId, secret } = (await register({ operatorId: 'hmc', lineId: 'metro-3', stationId: '3-nhon', kind: 'gate' }).expect(201)).body;
    const token = await exchange(deviceId, secret).expect(200);
    expect(token.body).toEqual({ accessToken: expect.any(String), expiresIn: 3600, tokenType: 'Bearer' });
    expect(jwt.decode(token.body.accessToken)).toMatchObject({ sub: deviceId, role: 'validator', op: 'hmc', line: 'metro-3', stn: '3-nhon' });

    const self = await http().get('/v1/devices/me').set('Authorization', `Bearer ${token.body.accessToken}`).expect(200);
    expect(self.body).toMatchObject({ deviceId, operatorId: 'hmc', lineId: 'metro-3', stationId: '3-nhon' });
    expectError(await http().get('/v1/me').set('Authorization', `Bearer ${token.body.accessToken}`), 403, 'FORBIDDEN');

    const wrong = await exchange(deviceId, `${secret.slice(0, -1)}x`);
    expectError(wrong, 401, 'INVALID_CREDENTIALS');
    const unknown = await exchange('no-such-device', secret);
    expect({ ...unknown.body, requestId: 'x' }).toEqual({ ...wrong.body, requestId: 'x' });
  });

  it("registers an inspector's handset with no line or station; its token has role inspector, on every copy, and never works as a validator's", async () => {
    const other = await startTestApp();
    try {
      const registered = (await register({ operatorId: 'hmc', kind: 'inspector' }).expect(201)).body;
      expect(registered).toEqual({ deviceId: expect.any(String), secret: expect.any(String), operatorId: 'hmc', kind: 'inspector', createdAt: expect.any(String) });
      const token = (await exchange(registered.deviceId, registered.secret).expect(200)).body.accessToken as string;
      expect(jwt.decode(token)).toMatchObject({ sub: registered.deviceId, role: 'inspector', op: 'hmc', dev: true });
      expect(jwt.decode(token)).not.toHaveProperty('line');
      const bearer = `Bearer ${token}`;
      const rider = await testAccount(app(), 'passenger');
      const qr = (await http().get('/v1/me/qr').query({ format: 'text' }).set('Authorization', rider.bearer).expect(200)).text;
      // The copy that registered it and one that only heard of it through Redis both take its token.
      for (const server of [app().getHttpServer(), other.getHttpServer()]) {
        const inspected = await request(server).post('/v1/inspections').set('Authorization', bearer).send({ qr, lineId: 'metro-2a' });
        expect(inspected.status).toBe(200);
        expect(inspected.body).toMatchObject({ result: 'NO_TAP' });
      }
      const [stored] = await app().get(DataSource).query(`SELECT inspector_id, device_id FROM inspections WHERE device_id = $1 LIMIT 1`, [registered.deviceId]);
      expect(stored).toEqual({ inspector_id: null, device_id: registered.deviceId });
      // It cannot tap, nor act as a validator elsewhere.
      expectError(await http().post('/v1/validations').set('Authorization', bearer).send({ tapId: 'handset-1', qr, direction: 'entry' }), 403, 'FORBIDDEN');
      expectError(await http().get('/v1/devices/me').set('Authorization', bearer), 403, 'FORBIDDEN');
      expectError(await http().get('/v1/me').set('Authorization', bearer), 403, 'FORBIDDEN');

      // Tokens signed with our key but naming a device of the other kind are refused.
      const [{ kid, secret: key }] = testConfig().auth.tokenKeys;
      const sign = (subject: string, payload: object) => `Bearer ${jwt.sign(payload, key, { algorithm: 'HS256', keyid: kid, issuer: 'lien-thong', audience: 'lien-thong-api', subject, expiresIn: 60 })}`;
      const gate = (await register({ operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-lang', kind: 'gate' }).expect(201)).body;
      expectError(await http().post('/v1/inspections').set('Authorization', sign(gate.deviceId, { role: 'inspector', op: 'hmc', dev: true })).send({ qr, lineId: 'metro-2a' }), 401, 'TOKEN_INVALID');
      expectError(await http().post('/v1/inspections').set('Authorization', sign('no-such-handset', { role: 'inspector', op: 'hmc', dev: true })).send({ qr, lineId: 'metro-2a' }), 401, 'TOKEN_INVALID');
      expectError(
        await http().post('/v1/validations').set('Authorization', sign(registered.deviceId, { role: 'validator', op: 'hmc', line: 'metro-2a', stn: '2a-lang' })).send({ tapId: 'handset-2', qr, direction: 'entry' }),
        401,
        'TOKEN_INVALID',
      );

      // Disabled, it stops at once and gets no new token.
      await http().post(`/v1/admin/devices/${registered.deviceId}/disable`).set('Authorization', admin).expect(200);
      expectError(await http().post('/v1/inspections').set('Authorization', bearer).send({ qr, lineId: 'metro-2a' }), 401, 'DEVICE_DISABLED');
      expectError(await exchange(registered.deviceId, registered.secret), 401, 'DEVICE_DISABLED');
    } finally {
      await other.close();
    }
  });

  it('disables a device: its tokens stop working at once, on every copy of the service, and it gets no new one', async () => {
    const { deviceId, secret } = (await register({ operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-la-thanh', kind: 'gate' }).expect(201)).body;
    const bearer = `Bearer ${(await exchange(deviceId, secret).expect(200)).body.accessToken}`;
    const other = await startTestApp();
    try {
      const onOther = () => request(other.getHttpServer()).get('/v1/devices/me').set('Authorization', bearer);
      expect((await onOther()).status).toBe(200);

      const disabled = await http().post(`/v1/admin/devices/${deviceId}/disable`).set('Authorization', admin).expect(200);
      expect(disabled.body.disabledAt).toEqual(expect.any(String));
      await http().post(`/v1/admin/devices/${deviceId}/disable`).set('Authorization', admin).expect(200);

      expectError(await http().get('/v1/devices/me').set('Authorization', bearer), 401, 'DEVICE_DISABLED');
      expectError(await exchange(deviceId, secret), 401, 'DEVICE_DISABLED');
      // The other copy hears of it through Redis.
      const deadline = Date.now() + 5_000;
      while ((await onOther()).status === 200 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expectError(await onOther(), 401, 'DEVICE_DISABLED');
    } finally {
      await other.close();
    }
    // A copy started later loads it from Postgres.
    const later = await startTestApp();
    try {
      expectError(await request(later.getHttpServer()).get('/v1/devices/me').set('Authorization', bearer), 401, 'DEVICE_DISABLED');
    } finally {
      await later.close();
    }
  });

  it('404 for disabling an unknown device; only admins register or disable', async () => {
    expectError(await http().post('/v1/admin/devices/no-such-device/disable').set('Authorization', admin), 404, 'NOT_FOUND');
    const staff = await testAccount(app(), 'operator', { operatorId: 'hmc' });
    expectError(await http().post('/v1/admin/devices/anything/disable').set('Authorization', staff.bearer), 403, 'FORBIDDEN');
    expectError(await register({}).set('Authorization', staff.bearer), 403, 'FORBIDDEN');
  });
});
