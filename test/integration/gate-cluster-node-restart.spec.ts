import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { GateKeys } from '../../src/gate-state/gate-state';
import { testAccount } from '../support/auth';
import { gateAt, tapsNotStoredOnce, type GateDevice } from '../support/gate';
import { topUp } from '../support/money';
import { RedisClusterServers } from '../support/redis-cluster';
import { startTestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

const RIDERS = 12;
const OUTAGE_MS = 4_000;

interface Answer {
  tapId: string;
  status: number;
  verdict?: string;
  /** The error, for an answer other than 200 (503 expected). */
  error?: string;
}

/**
 * On a 3-master Redis Cluster of its own (append-only files, fsync every second, as the service
 * expects), riders keep tapping while one master is stopped and started again: taps in that master's
 * slots are answered 503 meanwhile (the validator keeps them), the others go on, and every tap that
 * was answered `accept`, before, during or after, ends in Postgres exactly once.
 */
describe('the gate path on a Redis Cluster whose node stops and starts again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lien-thong-cluster-'));
  chmodSync(dir, 0o755);
  let cluster: RedisClusterServers;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    cluster = await RedisClusterServers.start(dir, { password: 'cluster-test-password' });
    app = await startTestApp({
      REDIS_URL: cluster.url,
      GATE_TAP_STREAM: `gate:taps:node-restart-${randomUUID()}`,
      GATE_REBUILD_ON_EMPTY_REDIS: 'false',
    });
  });
  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no accepted tap and stores none twice', async () => {
    const [entryGate, exitGate] = await Promise.all([gateAt(app, 'metro-2a', '2a-cat-linh'), gateAt(app, 'metro-2a', '2a-van-quan')]);
    const riders = await Promise.all(
      Array.from({ length: RIDERS }, async () => {
        const rider = await testAccount(app, 'passenger');
        await topUp(app, rider.bearer, 500_000);
        const qr = (await request(app.getHttpServer()).get('/v1/me/qr').query({ format: 'text' }).set('Authorization', rider.bearer).expect(200)).text;
        return { id: rider.id, qr };
      }),
    );
    // The master that holds the first rider's slot is the one stopped: some riders certainly lose their master.
    const victim = await masterOf(cluster, app.get(GateKeys).wallet(riders[0].id));

    const answers: Answer[] = [];
    let riding = true;
    const ride = async (qr: string) => {
      let inside = false;
      while (riding) {
        const tapId = randomUUID();
        const [gate, direction]: [GateDevice, 'entry' | 'exit'] = inside ? [exitGate, 'exit'] : [entryGate, 'entry'];
        const response = await request(app.getHttpServer()).post('/v1/validations').set('Authorization', gate.bearer).send({ tapId, qr, direction });
        const verdict = (response.body as { verdict?: string }).verdict;
        answers.push({ tapId, status: response.status, verdict, ...(response.status !== 200 && { error: JSON.stringify(response.body) }) });
        if (response.status === 200 && verdict === 'accept') inside = !inside;
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const load = Promise.all(riders.map((rider) => ride(rider.qr)));

    await waitFor(async () => answers.filter((answer) => answer.verdict === 'accept').length, (accepted) => accepted >= 3 * RIDERS, 30_000);
    await cluster.stopNode(victim);
    const stoppedAt = answers.length;
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await cluster.startNode(victim);
    const restartedAt = answers.length;
    // Every rider rides again once the node is back.
    await waitFor(async () => answers.slice(restartedAt).filter((answer) => answer.verdict === 'accept').length, (accepted) => accepted >= 3 * RIDERS, 60_000);
    riding = false;
    await load;

    const during = answers.slice(stoppedAt, restartedAt);
    expect(during.some((answer) => answer.status === 503)).toBe(true);
    expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 503)).toEqual([]);
    const accepted = answers.filter((answer) => answer.status === 200 && answer.verdict === 'accept').map((answer) => answer.tapId);
    const db = app.get(DataSource);
    expect(await tapsNotStoredOnce(db, accepted, 60_000)).toEqual([]);
    // A tap answered 503 may still have been applied (its answer was lost); none is stored twice either.
    const [{ twice }] = await db.query<Array<{ twice: number }>>(
      `SELECT count(*)::int AS twice FROM (SELECT tap_id FROM taps WHERE tap_id = ANY($1) GROUP BY tap_id HAVING count(*) > 1) t`,
      [answers.map((answer) => answer.tapId)],
    );
    expect(twice).toBe(0);
  }, 180_000);
});

/** The index of the master that holds `key`'s slot: the others answer MOVED. */
async function masterOf(cluster: RedisClusterServers, key: string): Promise<number> {
  for (let index = 0; index < cluster.size; index++) {
    const client = createClient({ url: cluster.nodeUrl(index) });
    await client.connect();
    try {
      await client.exists(key);
      return index;
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('MOVED')) throw error;
    } finally {
      await client.close();
    }
  }
  throw new Error(`no master holds ${key}`);
}
