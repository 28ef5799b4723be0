import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { upsertDevice } from '../../src/devices/device-seeder';
import { HANOI_LINES } from '../../src/network/hanoi-network';
import { GateKeys, type TapEvent } from '../../src/gate-state/gate-state';
import { RedisService } from '../../src/redis/redis.service';
import type { TapVerdict } from '../../src/validation/gate.service';
import { tapEventOf } from '../../src/validation/tap-persister';
import { waitFor } from './wait';

export interface GateDevice {
  deviceId: string;
  bearer: string;
  lineId: string;
  stationId?: string;
}

/**
 * A gate standing in a station, or with `stationId: null` a bus validator on the line. Lines other than
 * the seeded ones need their `operatorId`.
 */
export async function gateAt(app: NestFastifyApplication, lineId: string, stationId: string | null, operatorId?: string): Promise<GateDevice> {
  const line = operatorId ? { operatorId } : HANOI_LINES.find((candidate) => candidate.id === lineId);
  if (!line) throw new Error(`no line ${lineId}`);
  const deviceId = `test-gate-${randomUUID()}`;
  const secret = randomBytes(32).toString('base64url');
  await upsertDevice(app.get(DataSource), {
    deviceId,
    secret,
    operatorId: line.operatorId,
    lineId,
    ...(stationId !== null && { stationId }),
    kind: stationId === null ? 'bus' : 'gate',
  });
  const response = await request(app.getHttpServer()).post('/v1/devices/token').send({ deviceId, secret });
  if (response.status !== 200) throw new Error(`device token failed: ${response.status}`);
  return { deviceId, lineId, ...(stationId !== null && { stationId }), bearer: `Bearer ${(response.body as { accessToken: string }).accessToken}` };
}

export interface TapBody {
  tapId?: string;
  qr?: string;
  /** A card read by the validator instead of a QR (README "Media"). */
  medium?: object;
  direction: 'entry' | 'exit';
  stationId?: string;
  occurredAt?: string;
}


/** One online tap through HTTP; 200 expected. */
export async function tap(app: NestFastifyApplication, device: GateDevice, body: TapBody): Promise<TapVerdict> {
  const response = await request(app.getHttpServer())
    .post('/v1/validations')
    .set('Authorization', device.bearer)
    .send({ tapId: randomUUID(), ...body });
  if (response.status !== 200) throw new Error(`tap failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as TapVerdict;
}

/** One tap uploaded offline, as a batch of one (how a validator sends taps of the past); 200 expected. */
export async function offlineTap(app: NestFastifyApplication, device: GateDevice, body: TapBody): Promise<TapVerdict> {
  const response = await request(app.getHttpServer())
    .post('/v1/validations/batch')
    .set('Authorization', device.bearer)
    .send({ taps: [{ tapId: randomUUID(), ...body }] });
  if (response.status !== 200) throw new Error(`batch failed: ${response.status} ${JSON.stringify(response.body)}`);
  return (response.body as { results: TapVerdict[] }).results[0];
}

/** Waits until Postgres holds every one of `tapIds`, then returns those stored other than once (none, when all is well). */
export async function tapsNotStoredOnce(db: DataSource, tapIds: string[], timeoutMs: number): Promise<Array<{ tap_id: string; copies: number }>> {
  const rows = await waitFor(
    () => db.query<Array<{ tap_id: string; copies: number }>>(`SELECT tap_id, count(*)::int AS copies FROM taps WHERE tap_id = ANY($1) GROUP BY tap_id`, [tapIds]),
    (found) => found.length === tapIds.length,
    timeoutMs,
  );
  return rows.filter((row) => row.copies !== 1);
}

/** The tap streams of an app's shards (gate-state.ts GateKeys): what tests look for in them. */
export const tapStreams = {
  /** Entries pending in the consumer group, over every shard. */
  async pending(app: INestApplicationContext, group = 'tap-persister'): Promise<number> {
    const { client } = app.get(RedisService);
    const keys = app.get(GateKeys);
    const summaries = await Promise.all(keys.allShards().map((shard) => client.xPending(keys.tapStream(shard), group).catch(() => ({ pending: 0 }))));
    return summaries.reduce((total, summary) => total + summary.pending, 0);
  },
  /** Every event the streams hold, shard by shard. */
  async events(app: INestApplicationContext): Promise<TapEvent[]> {
    const { client } = app.get(RedisService);
    const keys = app.get(GateKeys);
    const shards = await Promise.all(keys.allShards().map((shard) => client.xRange(keys.tapStream(shard), '-', '+')));
    return shards.flat().flatMap((entry) => (entry ? [tapEventOf(entry.message as Record<string, string>)] : []));
  },
  async delete(app: INestApplicationContext): Promise<void> {
    const { client } = app.get(RedisService);
    const keys = app.get(GateKeys);
    for (const shard of keys.allShards()) await client.del(keys.tapStream(shard));
  },
};

/** Forgets every tap of a device the way an expired tap memory does: its memories in every shard and its tap-id claims, on every master. */
export async function forgetDeviceTaps(app: INestApplicationContext, deviceId: string): Promise<number> {
  const redis = app.get(RedisService);
  const forgotten = await redis.forEachMaster(async (node) => {
    let count = 0;
    for await (const keys of node.scanIterator({ MATCH: '*:tap:*', COUNT: 1000 })) {
      for (const key of keys) if (key.includes(deviceId)) count += await redis.client.del(key);
    }
    return count;
  });
  return forgotten.reduce((total, count) => total + count, 0);
}
