import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { withAdvisoryLock, SingletonLease } from '../../src/database/singleton-lease';
import { waitFor } from '../support/wait';

const url = () => process.env.DATABASE_URL!;

/** The leadership of the singleton jobs (src/database/singleton-lease.ts) between copies, on the real Postgres. */
describe('the singleton lease', () => {
  let admin: Client;
  const leases: SingletonLease[] = [];

  beforeAll(async () => {
    admin = new Client({ connectionString: url() });
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(leases.map((lease) => lease.stop()));
    await admin.end();
  });

  /** A lease whose rounds the test drives itself (refresh), as two copies would. */
  const lease = (name: string) => {
    const made = new SingletonLease({ url: url(), name, retryMs: 60_000 });
    leases.push(made);
    return made;
  };
  /** The backend holding the lease's lock, as Postgres sees it. */
  const holder = async (name: string) => {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 727002 AND objsubid = 2
          AND objid::bigint = (hashtext($1)::bigint + 4294967296) % 4294967296`,
      [name],
    );
    return rows.map((row) => row.pid);
  };

  it('lets one holder lead at a time, and passes to the other when the leader\'s connection dies', async () => {
    const name = `test-${randomUUID()}`;
    const [first, second] = [lease(name), lease(name)];
    const neverBoth = () => expect(first.leading && second.leading).toBe(false);

    await first.refresh();
    await second.refresh();
    expect([first.leading, second.leading]).toEqual([true, false]);
    for (let round = 0; round < 5; round++) {
      await Promise.all([second.refresh(), first.refresh()]);
      neverBoth();
      expect([first.leading, second.leading]).toEqual([true, false]);
    }
    const [leaderPid] = await holder(name);
    expect(await holder(name)).toHaveLength(1);

    // The leader's connection dies (its process crashed, the network dropped it): Postgres frees the lock.
    await admin.query('SELECT pg_terminate_backend($1)', [leaderPid]);
    await waitFor(() => holder(name), (pids) => pids.length === 0);
    await waitFor(async () => first.leading, (leading) => !leading);
    await second.refresh();
    neverBoth();
    expect(second.leading).toBe(true);
    // The old leader, reconnected, finds the lease taken and stays out.
    await first.refresh();
    await first.refresh();
    neverBoth();
    expect([first.leading, second.leading]).toEqual([false, true]);
    expect(await holder(name)).toHaveLength(1);
    expect(await holder(name)).not.toContain(leaderPid);

    // A copy that stops gives the lease up; the other takes it on its next round.
    await second.stop();
    expect(second.leading).toBe(false);
    await first.refresh();
    expect(first.leading).toBe(true);
  });

  it('keeps leases of different names apart', async () => {
    const [jobs, other] = [lease(`test-${randomUUID()}`), lease(`test-${randomUUID()}`)];
    await jobs.refresh();
    await other.refresh();
    expect([jobs.leading, other.leading]).toEqual([true, true]);
  });

  it('runs work under one advisory lock one copy after the other (the start-up rebuild)', async () => {
    const copies = await Promise.all([0, 1, 2].map(() => new DataSource({ type: 'postgres', url: url(), extra: { max: 2 } }).initialize()));
    try {
      const key = Math.floor(Math.random() * 1_000_000) + 1_000_000;
      let inside = 0;
      let most = 0;
      const order: number[] = [];
      await Promise.all(
        copies.map((db, copy) =>
          withAdvisoryLock(db, key, async () => {
            most = Math.max(most, ++inside);
            await new Promise((resolve) => setTimeout(resolve, 200));
            order.push(copy);
            inside--;
          }),
        ),
      );
      expect(most).toBe(1);
      expect(order.sort()).toEqual([0, 1, 2]);
    } finally {
      await Promise.all(copies.map((db) => db.destroy()));
    }
  });
});
