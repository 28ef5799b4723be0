import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisOptions, type RunningServer } from '../../src/local-services/servers';
import { freePort } from '../../src/local-services/system';

/**
 * A Redis of a test's own, with its append-only file, that the test stops and starts again on the
 * same port and data (an outage). `dispose` stops it and removes its folder.
 */
export class RestartableRedis {
  private readonly dir = mkdtempSync(join(tmpdir(), 'lien-thong-redis-'));
  private options?: RedisOptions;
  private server?: RunningServer;

  get url(): string {
    if (!this.server) throw new Error('Redis has not been started');
    return this.server.url;
  }

  async start(): Promise<void> {
    if (!this.options) {
      chmodSync(this.dir, 0o755);
      this.options = { dataDir: join(this.dir, 'redis'), port: await freePort() };
    }
    this.server = await startRedis(this.options);
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
