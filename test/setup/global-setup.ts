import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateAndMaybeSeed } from '../../src/cli/migrate';
import { startPostgres, startRedis } from '../../src/local-services/servers';
import { freePort } from '../../src/local-services/system';
import { RedisClusterServers } from '../support/redis-cluster';
import { TEST_STATE_KEY, TestServers, testRedisMode } from './test-servers';

const REDIS_PASSWORD = 'test-redis-password';

/**
 * Starts a throwaway Postgres and Redis on free ports in a temporary folder, migrates and seeds
 * once, and hands their URLs to the test workers through the environment. With REDIS_MODE=cluster
 * the Redis is a 3-master Redis Cluster (test/support/redis-cluster.ts) and REDIS_URL names it.
 */
export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lien-thong-test-'));
  chmodSync(dir, 0o755); // Postgres runs as an unprivileged user when we are root
  const [postgresPort, redisPort] = [await freePort(), await freePort()];
  const postgres = await startPostgres({
    dataDir: join(dir, 'postgres'),
    port: postgresPort,
    user: 'lienthong',
    password: 'test-password',
    database: 'lienthong_test',
    ephemeral: true,
    // As the service runs: a role that is no superuser and owns only its schema; it may create the
    // databases some tests keep to themselves.
    appRoleMayCreateDatabases: true,
  });
  const startTestRedis = () =>
    testRedisMode() === 'cluster'
      ? RedisClusterServers.start(join(dir, 'redis-cluster'), { password: REDIS_PASSWORD })
      : startRedis({ dataDir: join(dir, 'redis'), port: redisPort, ephemeral: true, password: REDIS_PASSWORD });
  const redis = await startTestRedis().catch(async (error: unknown) => {
    await postgres.stop();
    throw error;
  });
  const state: TestServers = { dir, postgres, redis };
  (globalThis as Record<string, unknown>)[TEST_STATE_KEY] = state;

  process.env.NODE_ENV = 'test';
  process.env.DATABASE_URL = postgres.url;
  process.env.REDIS_URL = redis.url;
  await migrateAndMaybeSeed(postgres.url, true, () => undefined);
}
