import type { INestApplicationContext } from '@nestjs/common';
import { RedisService, type RedisClient } from '../../src/redis/redis.service';

/** The commands that read a whole value, by TYPE. */
const READ: Record<string, (key: string) => string[]> = {
  string: (key) => ['GET', key],
  hash: (key) => ['HGETALL', key],
  set: (key) => ['SMEMBERS', key],
  zset: (key) => ['ZRANGE', key, '0', '-1', 'WITHSCORES'],
  list: (key) => ['LRANGE', key, '0', '-1'],
  stream: (key) => ['XRANGE', key, '-', '+'],
};

/**
 * Every key an app's Redis holds, with its type and its value as JSON: on a Redis Cluster every
 * master's keys, each read on its own master (what a search for leaked secrets must cover).
 */
export async function redisContents(app: INestApplicationContext): Promise<Map<string, { type: string; value: string }>> {
  const contents = new Map<string, { type: string; value: string }>();
  await app.get(RedisService).forEachMaster(async (node: RedisClient) => {
    for await (const keys of node.scanIterator({ COUNT: 1000 })) {
      for (const key of keys) {
        const type = await node.type(key);
        const read = READ[type];
        contents.set(key, { type, value: read ? JSON.stringify(await node.sendCommand(read(key))) : '' });
      }
    }
  });
  return contents;
}
