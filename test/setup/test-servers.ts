import type { RunningServer } from '../../src/local-services/servers';

export const TEST_STATE_KEY = '__lienThongTestServers';

export interface TestServers {
  dir: string;
  postgres: RunningServer;
  redis: RunningServer;
}
