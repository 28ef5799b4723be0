import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../src/config/config';
import { APP_CONFIG } from '../../src/config/config.module';
import { localDateAt } from '../../src/fares/domain/local-time';
import { MediumKeys, transitCardCryptogram } from '../../src/media/medium-keys';
import { testAccount } from '../support/auth';
import { gateAt } from '../support/gate';
import { redisContents } from '../support/redis-contents';
import { topUp } from '../support/money';
import { startTestApp } from '../support/test-app';
import { waitFor } from '../support/wait';
import { captureOutput } from '../support/output';

/** Everything written to stdout and stderr while the test runs (pino writes through process.stdout under Jest). */
/**
 * The 2025 Personal Data Protection Law counts an identity number as sensitive: no CCCD number, and no
 * transit-card key, may sit in any table, Redis key or value, log line or export. Every medium is used
 * at gates (linked and unlinked chip ID cards, a cloned transit card), the persister writes it all, and
 * then everything is searched as text.
 */
describe('media leave no card number and no card key behind', () => {
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

  it('in Postgres, Redis, the logs and the exports; and the free rides are counted by medium', async () => {
    const digits = () => String(randomBytes(6).readUIntBE(0, 6) % 1e12).padStart(12, '0');
    const [linked, elderly, young] = [digits(), digits(), digits()];
    const master = app.get<AppConfig>(APP_CONFIG).media.transitCardMasterKey;
    const uid = randomBytes(7).toString('hex').toUpperCase();
    const cardKey = createHmac('sha256', master).update(uid).digest('hex');
    const secrets = { linked, elderly, young, master, cardKey };

    const [admin, passenger, catLinh, haDong] = await Promise.all([
      testAccount(app, 'admin'),
      testAccount(app, 'passenger'),
      gateAt(app, 'metro-2a', '2a-cat-linh'),
      gateAt(app, 'metro-2a', '2a-ha-dong'),
    ]);
    await topUp(app, passenger.bearer, 100_000);
    const tapIds: string[] = [];
    const tapAt = async (gate: typeof catLinh, medium: object, direction: 'entry' | 'exit') => {
      const tapId = randomUUID();
      tapIds.push(tapId);
      return (await http().post('/v1/validations').set('Authorization', gate.bearer).send({ tapId, medium, direction }).expect(200)).body as { verdict: string; reason: string };
    };

    // A linked CCCD, refused links that name the number, an unlinked one of 60+ and one under 60.
    await http().post('/v1/me/media').set('Authorization', passenger.bearer).send({ kind: 'id_card', number: linked, birthDate: '1975-04-30' }).expect(201);
    await http().post('/v1/me/media').set('Authorization', passenger.bearer).send({ kind: 'id_card', number: linked, birthDate: '1975-02-30' }).expect(400);
    await http().post('/v1/me/media').set('Authorization', (await testAccount(app, 'passenger')).bearer).send({ kind: 'id_card', number: linked, birthDate: '1975-04-30' }).expect(409);
    const linkedCard = { kind: 'id_card', number: linked, birthDate: '1975-04-30' };
    expect(await tapAt(catLinh, linkedCard, 'entry')).toMatchObject({ verdict: 'accept' });
    expect(await tapAt(haDong, linkedCard, 'exit')).toMatchObject({ verdict: 'accept' });
    const elderlyCard = { kind: 'id_card', number: elderly, birthDate: '1950-01-01' };
    expect(await tapAt(catLinh, elderlyCard, 'entry')).toMatchObject({ verdict: 'accept', reason: 'OK' });
    expect(await tapAt(haDong, elderlyCard, 'exit')).toMatchObject({ verdict: 'accept', reason: 'OK' });
    expect(await tapAt(catLinh, { kind: 'id_card', number: young, birthDate: '2000-01-01' }, 'entry')).toMatchObject({ reason: 'NOT_COVERED' });
    await http().post('/v1/validations').set('Authorization', catLinh.bearer).send({ tapId: randomUUID(), medium: { kind: 'id_card', number: young, birthDate: 'soon' }, direction: 'entry' }).expect(400);

    // A transit card, its clone refused and blocked.
    await http().post('/v1/admin/transit-cards').set('Authorization', admin.bearer).send({ cards: [{ uid }] }).expect(201);
    const other = await testAccount(app, 'passenger');
    await topUp(app, other.bearer, 100_000);
    await http().post('/v1/me/media').set('Authorization', other.bearer).send({ kind: 'transit_card', uid }).expect(201);
    const card = (counter: number) => ({ kind: 'transit_card', uid, counter, cryptogram: transitCardCryptogram(master, uid, counter) });
    expect(await tapAt(catLinh, card(1), 'entry')).toMatchObject({ verdict: 'accept' });
    expect(await tapAt(haDong, card(1), 'exit')).toMatchObject({ reason: 'REVOKED' });

    const db = app.get(DataSource);
    await waitFor(
      () => db.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM taps WHERE tap_id = ANY($1)`, [tapIds]),
      ([{ n }]) => n === tapIds.length,
    );
    await waitFor(
      () => db.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM media WHERE card_uid = $1 AND status = 'blocked'`, [uid]),
      ([{ n }]) => n === 1,
    );

    // Postgres: every row of every table, as text.
    const tables = await db.query<Array<{ name: string }>>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
    const dump: string[] = [];
    for (const { name } of tables) {
      for (const row of await db.query<Array<{ t: string }>>(`SELECT t::text AS t FROM "${name}" t`)) dump.push(`${name} ${row.t}`);
    }
    const postgres = dump.join('\n');

    // Redis: every key and every value (every master of a cluster).
    const redis = [...(await redisContents(app))].flatMap(([key, { value }]) => [key, value]);

    // The exports of the day, and the statement.
    const date = localDateAt(Date.now());
    const exports = [
      (await http().get('/v1/fare-transactions').set('Authorization', admin.bearer).query({ date, format: 'csv' }).expect(200)).text,
      (await http().get('/v1/fare-transactions').set('Authorization', admin.bearer).query({ date, format: 'json' }).expect(200)).text,
      (await http().get('/v1/settlements/daily.csv').set('Authorization', admin.bearer).query({ date }).expect(200)).text,
    ].join('\n');
    const statement = (await http().get('/v1/settlements/daily').set('Authorization', admin.bearer).query({ date, operatorId: 'hmc' }).expect(200)).body as {
      freeRides: Array<{ lineId: string; mediumKind: string; rides: number }>;
    };

    const logs = output.text();
    const places = { postgres, redis: redis.join('\n'), logs, exports };
    // The search can find things: the taps and the media are there, under their hashes, and requests were logged.
    const hash = app.get(MediumKeys).lookupHash('id_card', elderly);
    expect(postgres).toContain(hash);
    expect(places.redis).toContain(hash);
    expect(logs).toContain('/v1/me/media');
    expect(exports).toContain('Smart card or ticket');
    for (const [place, text] of Object.entries(places)) {
      for (const [name, secret] of Object.entries(secrets)) expect({ place, name, found: text.includes(secret) }).toEqual({ place, name, found: false });
    }
    expect(statement.freeRides).toEqual(expect.arrayContaining([expect.objectContaining({ lineId: 'metro-2a', mediumKind: 'id_card', rides: expect.any(Number) })]));
  });
});
