import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { type RunningServer, startRedis } from '../../src/local-services/servers';
import { freePort } from '../../src/local-services/system';
import { startTestApp } from '../support/test-app';

/** /health/ready really asks its dependencies: when Redis goes away, it says so. */
describe('readiness when a dependency fails', () => {
  let dir: string;
  let redis: RunningServer;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lien-thong-ready-'));
    chmodSync(dir, 0o755);
    redis = await startRedis({ dataDir: dir, port: await freePort(), ephemeral: true });
    app = await startTestApp({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 naming Redis while Postgres stays up, and recovers', async () => {
    await request(app.getHttpServer()).get('/health/ready').expect(200);
    await redis.stop();
    const down = await request(app.getHttpServer()).get('/health/ready');
    expect(down.status).toBe(503);
    expect(down.body.error).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: expect.any(String),
      details: [{ field: 'redis', problem: 'down' }],
    });
    // Liveness does not depend on Redis: the process is fine, only not ready.
    await request(app.getHttpServer()).get('/health/live').expect(200);

    redis = await startRedis({ dataDir: dir, port: Number(new URL(redis.url).port), ephemeral: true });
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (await request(app.getHttpServer()).get('/health/ready')).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(200);
  });
});
