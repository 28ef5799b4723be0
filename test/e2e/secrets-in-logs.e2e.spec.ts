import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { testAccount } from '../support/auth';
import { startTestApp } from '../support/test-app';
import { captureOutput } from '../support/output';

describe('secrets never reach the logs or error bodies', () => {
  let app: NestFastifyApplication;
  let output: ReturnType<typeof captureOutput>;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    output = captureOutput();
    app = await startTestApp({ LOG_LEVEL: 'trace' });
  });
  afterAll(async () => {
    await app.close();
    output.restore();
  });

  it('logs requests of the whole account and device flow without a password, hash, token or secret', async () => {
    const bodies: string[] = [];
    const secrets: string[] = [];
    try {
      const email = `logs-${randomUUID()}@example.vn`;
      const password = 'mật khẩu bí mật 2026';
      secrets.push(password);
      const keep = (response: request.Response) => (bodies.push(JSON.stringify(response.body)), response);

      keep(await http().post('/v1/auth/register').send({ email, password, fullName: 'Log Test' }).expect(201));
      keep(await http().post('/v1/auth/register').send({ email, password, fullName: 'Log Test' }).expect(409));
      keep(await http().post('/v1/auth/login').send({ email, password: `${password}!` }).expect(401));
      const login = keep(await http().post('/v1/auth/login').send({ email, password }).expect(200)).body;
      secrets.push(login.accessToken, login.refreshToken);
      // A token sent in the query (some clients do) is logged with the URL, its value redacted.
      keep(await http().get('/v1/lines').query({ mode: 'metro', access_token: login.accessToken }).expect(400));
      const refreshed = keep(await http().post('/v1/auth/refresh').send({ refreshToken: login.refreshToken }).expect(200)).body;
      secrets.push(refreshed.accessToken, refreshed.refreshToken);
      keep(await http().post('/v1/auth/refresh').send({ refreshToken: login.refreshToken }).expect(401));
      keep(await http().get('/v1/me').set('Authorization', `Bearer ${refreshed.accessToken}`).expect(401));
      keep(await http().post('/v1/auth/logout').send({ refreshToken: refreshed.refreshToken }).expect(204));

      const admin = await testAccount(app, 'admin');
      secrets.push(admin.password, admin.accessToken, admin.refreshToken);
      const device = keep(
        await http()
          .post('/v1/admin/devices')
          .set('Authorization', admin.bearer)
          .send({ operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-cat-linh', kind: 'gate' })
          .expect(201),
      ).body;
      const deviceToken = keep(await http().post('/v1/devices/token').send({ deviceId: device.deviceId, secret: device.secret }).expect(200)).body;
      keep(await http().post('/v1/devices/token').send({ deviceId: device.deviceId, secret: `${device.secret}x` }).expect(401));
      keep(await http().get('/v1/me').set('Authorization', `Bearer ${deviceToken.accessToken}`).expect(403));
      secrets.push(device.secret, deviceToken.accessToken);

      // A bank card's token, linked, tapped online and offline, and refused when malformed: never logged.
      const cardToken = `tok_logs_${randomUUID().replace(/-/g, '')}`;
      secrets.push(cardToken);
      const rider = await testAccount(app, 'passenger');
      keep(await http().post('/v1/me/media').set('Authorization', rider.bearer).send({ kind: 'bank_card', token: cardToken }).expect(201));
      keep(await http().post('/v1/me/media').set('Authorization', rider.bearer).send({ kind: 'bank_card', token: `${cardToken}!` }).expect(400));
      const medium = { kind: 'bank_card', token: cardToken };
      keep(await http().post('/v1/validations').set('Authorization', `Bearer ${deviceToken.accessToken}`).send({ tapId: randomUUID(), medium, direction: 'entry' }).expect(200));
      keep(
        await http()
          .post('/v1/validations/batch')
          .set('Authorization', `Bearer ${deviceToken.accessToken}`)
          .send({ taps: [{ tapId: randomUUID(), medium, direction: 'exit', occurredAt: new Date().toISOString() }] })
          .expect(200),
      );

      const [account] = await app.get(DataSource).query('SELECT password_hash FROM accounts WHERE email = $1', [email]);
      secrets.push(account.password_hash);
    } finally {
      output.restore();
    }
    const logs = output.text();
    expect(logs).toContain('/v1/auth/login'); // the capture works: request lines were logged
    expect(logs).toContain('/v1/devices/token');
    for (const secret of secrets) expect(logs).not.toContain(secret);
    expect(logs).not.toContain('$argon2id$');
    // The bodies that answer errors hold none either (successful ones hand out their own tokens, by design).
    const errorBodies = bodies.filter((body) => body.includes('"error"'));
    expect(errorBodies.length).toBeGreaterThan(4);
    for (const secret of secrets) for (const body of errorBodies) expect(body).not.toContain(secret);
  });
});
