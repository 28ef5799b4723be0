import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { migrateAndMaybeSeed } from '../../src/cli/migrate';
import { startPostgres, type RunningServer } from '../../src/local-services/servers';
import { freePort } from '../../src/local-services/system';
import { FaresService } from '../../src/fares/fares.service';
import { RedisService } from '../../src/redis/redis.service';
import { AccountGateState } from '../../src/gate-state/account-gate-state';
import { GATE_STATE_BUILT_KEY, GateKeys } from '../../src/gate-state/gate-state';
import { GateStateBuilder } from '../../src/validation/gate-state-builder';
import { testAccount } from '../support/auth';
import { gateAt, tap, tapStreams, tapsNotStoredOnce } from '../support/gate';
import type { TapVerdict } from '../../src/validation/gate.service';
import { topUp } from '../support/money';
import { startTestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

/**
 * With its own Postgres, so that it can stop it: taps keep getting verdicts while Postgres is down;
 * the copy of the service that read them dies without acknowledging anything; another copy claims
 * its pending entries, and every tap lands in Postgres exactly once.
 */
describe('the gate path survives Postgres going away and a copy of the service dying', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lien-thong-durability-'));
  chmodSync(dir, 0o755);
  const streamKey = `gate:taps:durability-${randomUUID()}`;
  let postgres: RunningServer;
  let port: number;
  let overrides: Record<string, string>;
  const apps: NestFastifyApplication[] = [];

  const startOwnPostgres = () =>
    startPostgres({ dataDir: join(dir, 'postgres'), port, user: 'lienthong', password: 'test-password', database: 'lienthong_durability_test', ephemeral: true });

  beforeAll(async () => {
    port = await freePort();
    postgres = await startOwnPostgres();
    await migrateAndMaybeSeed(postgres.url, true, () => undefined);
    overrides = { DATABASE_URL: postgres.url, GATE_TAP_STREAM: streamKey, GATE_CLAIM_IDLE_SECONDS: '1', GATE_REBUILD_ON_EMPTY_REDIS: 'false', DATABASE_POOL_SIZE: '3' };
  });
  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every tap while Postgres is down, and writes each exactly once after it is back, through another copy', async () => {
    const first = await startTestApp(overrides);
    apps.push(first);
    const passenger = await testAccount(first, 'passenger');
    await topUp(first, passenger.bearer, 500_000);
    const [entryGate, exitGate] = await Promise.all([gateAt(first, 'metro-2a', '2a-cat-linh'), gateAt(first, 'metro-2a', '2a-van-quan')]);
    const { text: qr } = await import('supertest').then(({ default: request }) =>
      request(first.getHttpServer()).get('/v1/me/qr').query({ format: 'text' }).set('Authorization', passenger.bearer).expect(200),
    );

    await postgres.stop();
    const tapIds: string[] = [];
    const verdicts: TapVerdict[] = [];
    for (let trip = 0; trip < 20; trip++) {
      for (const [gate, direction] of [[entryGate, 'entry'], [exitGate, 'exit']] as const) {
        const tapId = randomUUID();
        tapIds.push(tapId);
        verdicts.push(await tap(first, gate, { tapId, qr, direction }));
      }
    }
    expect(verdicts.every((verdict) => verdict.verdict === 'accept')).toBe(true);
    const charged = verdicts.reduce((sum, verdict) => sum + (verdict.fare ?? 0), 0);
    expect(charged).toBeGreaterThan(0);

    // The first copy has read the taps and failed to write them: they are pending under its name. It dies.
    await waitFor(() => tapStreams.pending(first), (pending) => pending > 0);
    await first.close();
    apps.splice(apps.indexOf(first), 1);

    postgres = await startOwnPostgres();
    const second = await startTestApp(overrides);
    apps.push(second);
    const db = second.get(DataSource);
    expect(await tapsNotStoredOnce(db, tapIds, 30_000)).toEqual([]);
    const [journeys] = await db.query<Array<{ closed: number; charged: string }>>(
      `SELECT count(*)::int AS closed, sum(charge) AS charged FROM journeys WHERE account_id = $1 AND status = 'closed'`,
      [passenger.id],
    );
    expect({ closed: journeys.closed, charged: Number(journeys.charged) }).toEqual({ closed: 20, charged });
    const secondRedis = second.get(RedisService).client;
    await waitFor(() => tapStreams.pending(second), (pending) => pending === 0);

    // Redis loses the account's gate state mid-journey: a copy starting on a Redis without gate state rebuilds it from Postgres.
    const inside = await tap(second, entryGate, { qr, direction: 'entry' });
    await waitFor(
      () => db.query<unknown[]>(`SELECT 1 FROM journeys WHERE id = $1 AND status = 'open'`, [inside.journeyId]),
      (found) => found.length === 1,
    );
    const keys = second.get(GateKeys);
    const walletKey = keys.wallet(passenger.id);
    await secondRedis.del([walletKey, keys.trip('payg', passenger.id), keys.spend('payg', passenger.id)]);
    await secondRedis.del(GATE_STATE_BUILT_KEY);
    const third = await startTestApp({ ...overrides, GATE_REBUILD_ON_EMPTY_REDIS: 'true' });
    apps.push(third);
    expect(await third.get(AccountGateState).balance(passenger.id)).toBe(500_000 - charged);
    const exit = await tap(third, exitGate, { qr, direction: 'exit' });
    // The day's spend came back from Postgres too: the exit is capped as if Redis had never lost it.
    const calculator = third.get(FaresService).calculator();
    const spent = { daySpent: charged, dayModes: 1, weekSpent: charged, weekModes: 1 };
    const expected = calculator.chargeLeg(calculator.quote('metro-2a', '2a-cat-linh', '2a-van-quan', 'adult', Date.now()), spent).charge;
    expect(expected).toBeLessThan(calculator.quote('metro-2a', '2a-cat-linh', '2a-van-quan', 'adult', Date.now()).amount);
    expect(exit).toMatchObject({ verdict: 'accept', reason: 'OK', journeyId: inside.journeyId, fare: expected });
    const balanceAfterExit = 500_000 - charged - exit.fare!;
    expect(await secondRedis.exists(GATE_STATE_BUILT_KEY)).toBe(1);
    // And the command's rebuild reports its progress (once the exit is in Postgres, the record it rebuilds from).
    await waitFor(
      () => db.query<unknown[]>(`SELECT 1 FROM journeys WHERE id = $1 AND status = 'closed'`, [inside.journeyId]),
      (found) => found.length === 1,
    );
    await secondRedis.del(walletKey);
    const steps: string[] = [];
    const counts = await third.get(GateStateBuilder).rebuild((step, done, total) => steps.push(`${step} ${done}/${total}`));
    expect(counts.accounts).toBeGreaterThan(0);
    expect(steps).toEqual(expect.arrayContaining(['tickets 0/null', `accounts ${counts.accounts}/${counts.accounts}`]));
    expect(await third.get(AccountGateState).balance(passenger.id)).toBe(balanceAfterExit);
    await tapStreams.delete(third);
  });
});
