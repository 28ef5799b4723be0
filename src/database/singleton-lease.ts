import { hostname } from 'node:os';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

/** The advisory-lock class of every lease (pg_try_advisory_lock's first key); the second is the lease's name hashed. */
export const LEASE_LOCK_CLASS = 727_002;

export interface SingletonLeaseOptions {
  /** Postgres, reached on a connection of the lease's own. */
  url: string;
  /** Copies holding leases of the same name exclude each other; other names are independent. */
  name: string;
  /** How often the lease is tried when another copy holds it, and confirmed while this one does. */
  retryMs: number;
  /** Told when this copy starts or stops leading (a lost connection included). */
  onChange?: (leading: boolean, error?: unknown) => void;
}

/**
 * Leadership of one copy among several: a Postgres session advisory lock held on a connection of
 * its own. Whoever holds the lock leads; when that copy dies its connection closes, Postgres drops
 * the lock, and the next copy to try (every `retryMs`) takes it. The holder confirms its connection
 * every `retryMs`; a failed or late confirmation ends its leadership at once (the connection is
 * dropped, so Postgres frees the lock for the others), and it tries again on the next round.
 *
 * A copy leads only while its last confirmation is recent, so a connection that silently stopped
 * answering does not leave two leaders for longer than a round or two; jobs run under a lease must
 * still be safe to run twice (each one's writes are claimed row by row or atomically in Redis), as
 * a job started just before the lease was lost finishes its round.
 */
export class SingletonLease {
  private client: Client | undefined;
  private held = false;
  private confirmedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: SingletonLeaseOptions) {}

  /** True while this copy holds the lease and confirmed it within the last two rounds. */
  get leading(): boolean {
    return this.held && Date.now() - this.confirmedAt < 2 * this.options.retryMs;
  }

  /** The first try now, then one every `retryMs`. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.retryMs);
    this.timer.unref();
  }

  /** One round: confirms the lease held, or tries to take it. Never rejects; rounds never overlap. */
  refresh(): Promise<void> {
    this.round ??= this.tryRound().finally(() => (this.round = undefined));
    return this.round;
  }

  /** Gives the lease up (another copy takes it on its next round) and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.round;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (this.held) {
      this.setHeld(false);
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LEASE_LOCK_CLASS, this.options.name]).catch(() => undefined);
    }
    await client.end().catch(() => undefined);
  }

  private async tryRound(): Promise<void> {
    if (this.stopped) return;
    try {
      const client = this.client ?? (await this.connect());
      if (this.held) {
        await client.query('SELECT 1');
        this.confirmedAt = Date.now();
        return;
      }
      const { rows } = await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS taken', [LEASE_LOCK_CLASS, this.options.name]);
      if (rows[0]?.taken) {
        this.confirmedAt = Date.now();
        this.setHeld(true);
      }
    } catch (error) {
      this.drop(error);
    }
  }

  private async connect(): Promise<Client> {
    const client = new Client({
      connectionString: this.options.url,
      // Which copy holds a lease, for whoever looks (pg_locks joined to pg_stat_activity; the fault drill does).
      application_name: `lien-thong-lease ${this.options.name} ${process.pid}@${hostname()}`.slice(0, 63),
      keepAlive: true,
      // A confirmation that takes longer than a round counts as a lost connection.
      query_timeout: this.options.retryMs,
      connectionTimeoutMillis: this.options.retryMs,
    });
    // A connection lost between rounds: whatever the client reports, the lock is gone with it.
    client.on('error', (error) => this.drop(error, client));
    this.client = client;
    try {
      await client.connect();
    } catch (error) {
      this.client = undefined;
      throw error;
    }
    return client;
  }

  /** Forgets the connection (ending it, so that Postgres frees a lock it may still hold) and the leadership. */
  private drop(error: unknown, client = this.client): void {
    if (client !== this.client) return;
    this.client = undefined;
    void client?.end().catch(() => undefined);
    if (this.held) this.setHeld(false, error);
  }

  private setHeld(held: boolean, error?: unknown): void {
    this.held = held;
    this.options.onChange?.(held, error);
  }
}

/**
 * Runs `work` holding a session advisory lock on a pooled connection, waiting for whoever holds it:
 * copies starting together do it one after the other. A copy that dies holding it frees it.
 */
export async function withAdvisoryLock<T>(dataSource: DataSource, key: number, work: () => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [key]);
    return await work();
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
    await runner.release();
  }
}
