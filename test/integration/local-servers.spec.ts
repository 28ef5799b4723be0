import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createClient } from 'redis';
import { startPostgres, startRedis } from '../../src/local-services/servers';
import { LocalServiceError, freePort } from '../../src/local-services/system';

/** The servers `npm run local` starts keep their data across a stop and a start. */
describe('local servers', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lien-thong-servers-'));
    chmodSync(dir, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Postgres keeps committed rows across a restart', async () => {
    const options = { dataDir: join(dir, 'pg'), port: await freePort(), user: 'keeper', password: 'pw-1', database: 'keep_test' };
    const query = async (url: string, sql: string) => {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(sql)).rows;
      } finally {
        await client.end();
      }
    };
    const first = await startPostgres(options);
    try {
      await query(first.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('tap-1')");
    } finally {
      await first.stop();
    }
    const second = await startPostgres(options);
    try {
      expect(await query(second.url, 'SELECT v FROM kept')).toEqual([{ v: 'tap-1' }]);
    } finally {
      await second.stop();
    }
  });

  it('Redis keeps writes across a restart through its append-only file', async () => {
    const options = { dataDir: join(dir, 'redis'), port: await freePort() };
    const first = await startRedis(options);
    const client = createClient({ url: first.url });
    await client.connect();
    await client.set('journey:1', 'open');
    await client.close();
    await first.stop(); // SIGTERM: Redis fsyncs the AOF before exiting
    const second = await startRedis(options);
    const again = createClient({ url: second.url });
    await again.connect();
    try {
      expect(await again.get('journey:1')).toBe('open');
    } finally {
      await again.close();
      await second.stop();
    }
  });

  it('refuses a port that is taken, naming the variable to change', async () => {
    const taken = new URL(process.env.REDIS_URL!).port;
    await expect(startRedis({ dataDir: join(dir, 'other'), port: Number(taken), portVariable: 'REDIS_URL' })).rejects.toThrow(
      new LocalServiceError(`Redis cannot listen on port ${taken}: something else already does. Set REDIS_URL to another port.`),
    );
  });
});
