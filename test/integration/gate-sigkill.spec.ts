import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { migrateAndMaybeSeed } from '../../src/cli/migrate';
import { startPostgres, type RunningServer } from '../../src/local-services/servers';
import { freePort } from '../../src/local-services/system';
import type { TapVerdict } from '../../src/validation/gate.service';
import { testAccount } from '../support/auth';
import { buildService, startBuiltService, type BuiltService } from '../support/built-service';
import { gateAt, tapStreams, tapsNotStoredOnce, type GateDevice } from '../support/gate';
import { topUp } from '../support/money';
import { startTestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

const TRIPS = 20;

/**
 * The real thing: the built service runs in a process of its own, answers taps while Postgres is
 * down (so its persister holds them, read but unacknowledged), and is killed with SIGKILL. Another
 * copy then claims what the dead one held, and every accepted tap lands in Postgres exactly once.
 */
describe('a copy of the service killed with SIGKILL mid-stream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lien-thong-sigkill-'));
  chmodSync(dir, 0o755);
  let mainJs: string;
  const streamKey = `gate:taps:sigkill-${randomUUID()}`;
  let postgres: RunningServer;
  let postgresPort: number;
  let env: Record<string, string>;
  let child: BuiltService | undefined;
  const apps: NestFastifyApplication[] = [];

  const startOwnPostgres = () =>
    startPostgres({ dataDir: join(dir, 'postgres'), port: postgresPort, user: 'lienthong', password: 'test-password', database: 'lienthong_sigkill_test', ephemeral: true });

  beforeAll(async () => {
    // The service as it ships: compiled JavaScript, with its Lua scripts beside it.
    mainJs = buildService(join(dir, 'dist'));

    postgresPort = await freePort();
    postgres = await startOwnPostgres();
    await migrateAndMaybeSeed(postgres.url, true, () => undefined);
    env = {
      DATABASE_URL: postgres.url,
      GATE_TAP_STREAM: streamKey,
      GATE_CLAIM_IDLE_SECONDS: '1',
      GATE_REBUILD_ON_EMPTY_REDIS: 'false',
      DATABASE_POOL_SIZE: '3',
      QR_DEV_KEY_FILE: join(dir, 'qr-dev-key.pem'),
    };
  }, 180_000);

  afterAll(async () => {
    await child?.kill();
    for (const app of apps) await app.close().catch(() => undefined);
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no accepted tap and writes none twice', async () => {
    // A copy that does not persist, to set the rider up through the API.
    const helper = await startTestApp({ ...env, GATE_PERSISTER_ENABLED: 'false' });
    apps.push(helper);
    const passenger = await testAccount(helper, 'passenger');
    await topUp(helper, passenger.bearer, 500_000);
    const [entryGate, exitGate] = await Promise.all([gateAt(helper, 'metro-2a', '2a-cat-linh'), gateAt(helper, 'metro-2a', '2a-van-quan')]);
    const { default: request } = await import('supertest');
    const qr = (await request(helper.getHttpServer()).get('/v1/me/qr').query({ format: 'text' }).set('Authorization', passenger.bearer).expect(200)).text;

    child = await startBuiltService(mainJs, { env, port: await freePort() });
    expect(child.stderr()).toBe('');
    const base = child.base;

    await postgres.stop();
    const tapIds: string[] = [];
    const verdicts: TapVerdict[] = [];
    const send = async (gate: GateDevice, direction: 'entry' | 'exit') => {
      const tapId = randomUUID();
      tapIds.push(tapId);
      const response = await fetch(`${base}/v1/validations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: gate.bearer },
        body: JSON.stringify({ tapId, qr, direction }),
      });
      expect(response.status).toBe(200);
      verdicts.push((await response.json()) as TapVerdict);
    };
    for (let trip = 0; trip < TRIPS; trip++) {
      await send(entryGate, 'entry');
      await send(exitGate, 'exit');
    }
    expect(verdicts.filter((verdict) => verdict.verdict !== 'accept')).toEqual([]);
    const charged = verdicts.reduce((sum, verdict) => sum + (verdict.fare ?? 0), 0);
    expect(charged).toBeGreaterThan(0);

    // The child's persister holds taps it read and could not write (pending under its name; it retries
    // those before reading more), and the rest wait unread in the stream. Kill it there.
    await waitFor(() => tapStreams.pending(helper), (pending) => pending > 0, 30_000);
    await child.kill();
    child = undefined;

    postgres = await startOwnPostgres();
    const survivor = await startTestApp(env);
    apps.push(survivor);
    const db = survivor.get(DataSource);
    expect(await tapsNotStoredOnce(db, tapIds, 60_000)).toEqual([]);
    const [journeys] = await db.query<Array<{ closed: number; charged: string }>>(
      `SELECT count(*)::int AS closed, sum(charge) AS charged FROM journeys WHERE account_id = $1 AND status = 'closed'`,
      [passenger.id],
    );
    expect({ closed: journeys.closed, charged: Number(journeys.charged) }).toEqual({ closed: TRIPS, charged });
    await waitFor(() => tapStreams.pending(helper), (pending) => pending === 0, 30_000);
    await tapStreams.delete(helper);
  }, 240_000);
});
