/**
 * Part of `npm run bench -- gate`: what a tap of each medium costs beyond a QR tap's route and gate.lua
 * (the same for every kind): the work in Node (a transit card's cryptogram and look-up hash; a chip ID
 * card's look-up hash, birth check and age), in CPU per tap, and medium.lua's extra Redis round trip
 * (resolve the medium, check a card's counter), in wall time per call, one call at a time.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { AppConfig } from '../../src/config/config';
import { ELDERLY_FROM_AGE, ageOn } from '../../src/accounts/rider-category-rules';
import { localDateAt } from '../../src/fares/domain/local-time';
import { mediumArguments } from '../../src/gate-state/gate-script';
import { GateKeys, luaPrelude } from '../../src/gate-state/gate-state';
import { MediumKeys, transitCardCryptogram } from '../../src/media/medium-keys';
import { LuaScript } from '../../src/redis/lua-script';
import type { RedisClient } from '../../src/redis/redis.service';
import { median, REPOSITORY } from './harness';

const CARDS = Number(process.env.BENCH_MEDIUM_CARDS ?? 2_000);
const ROUNDS = 3;

export interface MediumCosts {
  /** µs of CPU per tap in Node. */
  transitCardNode: number;
  idCardNode: number;
  /** µs of wall time per medium.lua call (a counter checked, or a look-up only). */
  transitCardRedis: number;
  idCardRedis: number;
}

export async function mediumCosts(config: AppConfig, client: RedisClient): Promise<MediumCosts> {
  const keys = new MediumKeys(config);
  const gateKeys = new GateKeys(config.gate);
  const master = config.media.transitCardMasterKey;
  const script = LuaScript.fromFile(join(REPOSITORY, 'src', 'gate-state', 'medium.lua'), luaPrelude());
  const cards = Array.from({ length: CARDS }, () => randomBytes(7).toString('hex').toUpperCase());
  const numbers = Array.from({ length: CARDS }, () => String(randomBytes(6).readUIntBE(0, 6) % 1e12).padStart(12, '0'));
  for (const uid of cards) {
    await client.hSet(gateKeys.medium(keys.lookupHash('transit_card', uid)), { kind: 'transit_card', status: 'active', account: randomUUID(), id: randomUUID(), chk: '' });
  }
  const stream = `bench:medium-taps:${randomUUID()}`;
  const cpu = (work: () => void): number => {
    const started = process.cpuUsage();
    work();
    const used = process.cpuUsage(started);
    return (used.user + used.system) / CARDS;
  };
  const wall = async (work: () => Promise<void>): Promise<number> => {
    const started = process.hrtime.bigint();
    await work();
    return Number(process.hrtime.bigint() - started) / 1000 / CARDS;
  };
  const rounds = { transitNode: [] as number[], idNode: [] as number[], transitRedis: [] as number[], idRedis: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const counter = round + 1;
    const taps = cards.map((uid) => ({ uid, counter, cryptogram: transitCardCryptogram(master, uid, counter) }));
    const at = Date.now();
    rounds.transitNode.push(
      cpu(() => {
        for (const tap of taps) if (!keys.cryptogramValid(tap.uid, tap.counter, tap.cryptogram) || keys.lookupHash('transit_card', tap.uid).length !== 64) throw new Error('bench card');
      }),
    );
    rounds.idNode.push(
      cpu(() => {
        const today = localDateAt(at);
        for (const number of numbers) if (keys.lookupHash('id_card', number).length + keys.birthCheck(number, '1950-01-01').length !== 128 || ageOn('1950-01-01', today) < ELDERLY_FROM_AGE) throw new Error('bench id');
      }),
    );
    rounds.transitRedis.push(
      await wall(async () => {
        for (const tap of taps) {
          const args = mediumArguments({ lookupHash: '', at, offline: false, counter: tap.counter, deviceId: 'bench', tapId: randomUUID() });
          await script.run(client, [gateKeys.medium(keys.lookupHash('transit_card', tap.uid)), stream], args);
        }
      }),
    );
    rounds.idRedis.push(
      await wall(async () => {
        for (const number of numbers) {
          const args = mediumArguments({ lookupHash: '', at, offline: false, deviceId: 'bench', tapId: randomUUID() });
          await script.run(client, [gateKeys.medium(keys.lookupHash('id_card', number)), stream], args);
        }
      }),
    );
  }
  await client.del(stream);
  return { transitCardNode: median(rounds.transitNode), idCardNode: median(rounds.idNode), transitCardRedis: median(rounds.transitRedis), idCardRedis: median(rounds.idRedis) };
}

export function mediumCostLines(costs: MediumCosts): string[] {
  const us = (value: number) => `${Math.round(value)} µs`;
  return [
    `Media per tap, beyond a QR tap's route and gate.lua (${CARDS.toLocaleString('en')} cards, median of ${ROUNDS} rounds):`,
    `  transit card: Node ${us(costs.transitCardNode)} CPU (cryptogram, look-up hash); medium.lua round trip ${us(costs.transitCardRedis)} (counter checked)`,
    `  chip ID card: Node ${us(costs.idCardNode)} CPU (look-up hash, birth check, age); medium.lua round trip ${us(costs.idCardRedis)} (look-up)`,
    `  app (dynamic QR): the QR check above, and medium.lua's round trip for its card's status (as a chip ID card's look-up)`,
  ];
}
