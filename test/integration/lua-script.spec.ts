import { join } from 'node:path';
import { LuaScript } from '../../src/redis/lua-script';
import { RedisService } from '../../src/redis/redis.service';
import { testConfig } from '../support/test-app';

describe('LuaScript', () => {
  const redis = new RedisService(testConfig());
  const client = redis.client;
  const script = LuaScript.fromFile(join(__dirname, '..', 'fixtures', 'increment-by.lua'));
  const key = `lua-test:${process.pid}:${Date.now()}`;

  beforeAll(async () => {
    await redis.onModuleInit();
  });
  afterAll(async () => {
    await client.del(key);
    await redis.onModuleDestroy();
  });

  it('loads from its file and runs by SHA', async () => {
    await redis.forEachMaster((node) => script.load(node));
    expect(new Set((await redis.forEachMaster((node) => node.scriptExists(script.sha))).flat())).toEqual(new Set([1]));
    expect(await script.run(client, [key], ['5'])).toBe(5);
  });

  it('reloads itself when Redis forgot its scripts (a restart), without running twice', async () => {
    await redis.forEachMaster((node) => node.scriptFlush());
    expect(await script.run(client, [key], ['2'])).toBe(7);
    expect(await client.get(key)).toBe('7');
  });

  it('passes script errors through', async () => {
    await client.set(key, 'not a number');
    await expect(script.run(client, [key], ['1'])).rejects.toThrow(/not an integer/);
  });
});
