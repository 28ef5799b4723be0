import type { RunningServer } from '../../src/local-services/servers';

export const TEST_STATE_KEY = '__lienThongTestServers';

export interface TestServers {
  dir: string;
  postgres: RunningServer;
  /** One Redis, or the servers of a Redis Cluster (REDIS_MODE=cluster): `url` is REDIS_URL. */
  redis: Pick<RunningServer, 'url' | 'stop'>;
}

/** REDIS_MODE: `single` (the default) runs the tests on one Redis, `cluster` on a 3-master Redis Cluster. */
export function testRedisMode(): 'single' | 'cluster' {
  const mode = process.env.REDIS_MODE ?? 'single';
  if (mode !== 'single' && mode !== 'cluster') throw new Error(`REDIS_MODE must be single or cluster, not ${mode}`);
  return mode;
}
