import { rmSync } from 'node:fs';
import { TEST_STATE_KEY, TestServers } from './test-servers';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>)[TEST_STATE_KEY] as TestServers | undefined;
  if (!state) return;
  await Promise.all([state.redis.stop(), state.postgres.stop()]);
  rmSync(state.dir, { recursive: true, force: true });
}
