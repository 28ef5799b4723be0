import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { createClient } from 'redis';
import { startPostgres, startRedis } from '../../src/local-services/servers';
import { LocalServiceError, freePort } from '../../src/local-services/system';

/** What Redis answers a PING sent without a password. */
function anonymousPing(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) socket.end();
    });
    socket.on('close', () => resolve(reply));
    socket.on('error', reject);
  });
}

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

  it("gives the application a role that is no superuser and owns only its schema, and logs no values of failed statements", async () => {
    const dataDir = join(dir, 'pg-role');
    const server = await startPostgres({ dataDir, port: await freePort(), user: 'app_role', password: 'app password', database: 'role_test' });
    const client = new Client({ connectionString: server.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user`);
      expect(rows).toEqual([{ rolsuper: false, rolcreaterole: false, rolcreatedb: false }]);
      const owner = await client.query(`SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = 'public'`);
      expect(owner.rows).toEqual([{ owner: 'app_role' }]);
      await client.query(`CREATE TABLE people (email text UNIQUE)`);
      await client.query(`INSERT INTO people VALUES ($1)`, ['lan.secret@example.vn']);
      await expect(client.query(`INSERT INTO people VALUES ($1)`, ['lan.secret@example.vn'])).rejects.toThrow(/duplicate key/);
      await expect(client.query(`CREATE DATABASE another_test`)).rejects.toThrow(/permission denied/);
      await expect(client.query(`CREATE ROLE intruder`)).rejects.toThrow(/permission denied/);
      await expect(client.query(`ALTER SYSTEM SET log_error_verbosity = 'verbose'`)).rejects.toThrow(/must be superuser|permission denied/);
    } finally {
      await client.end();
      await server.stop();
    }
    const log = readFileSync(join(dataDir, 'server.log'), 'utf8');
    expect(log).toContain('duplicate key value violates unique constraint');
    expect(log).not.toContain('lan.secret@example.vn');
  });

  it('Redis asks for its password', async () => {
    const server = await startRedis({ dataDir: join(dir, 'redis-password'), port: await freePort(), ephemeral: true, password: 'redis "pass" word' });
    try {
      expect(server.url).toContain(':redis%20%22pass%22%20word@127.0.0.1');
      expect(await anonymousPing(Number(new URL(server.url).port))).toMatch(/^-NOAUTH/);
      const client = createClient({ url: server.url });
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      await client.close();
    } finally {
      await server.stop();
    }
  });

  it('refuses a port that is taken, naming the variable to change', async () => {
    const taken = new URL(process.env.REDIS_URL!).port;
    await expect(startRedis({ dataDir: join(dir, 'other'), port: Number(taken), portVariable: 'REDIS_URL' })).rejects.toThrow(
      new LocalServiceError(`Redis cannot listen on port ${taken}: something else already does. Set REDIS_URL to another port.`),
    );
  });
});
