import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DataSource, type EntityManager } from 'typeorm';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { compactLocalDate, localDayNumber, localDayStartMs } from '../fares/domain/local-time';
import { Ledger, SYSTEM_LEDGER_ACCOUNTS } from '../payments/ledger';
import { TAP_EVENT_FIELDS, TAP_EVENT_STREAM_FIELD, type TapEvent } from '../gate-state/gate-state';
import { RedisService, type RedisClient } from '../redis/redis.service';

export type { TapEvent } from '../gate-state/gate-state';

interface StreamEntry {
  id: string;
  message: Record<string, string>;
}

/** The event a stream entry carries, as JSON in its one field. */
export function tapEventOf(message: Record<string, string>): TapEvent {
  const event = message[TAP_EVENT_STREAM_FIELD];
  if (event === undefined) throw new Error(`a stream entry without a tap event: ${JSON.stringify(message)}`);
  return JSON.parse(event) as TapEvent;
}

const READ_BLOCK_MS = 500;
const TRIM_EVERY_MS = 10_000;
const BATCH_GATHER_MS = 200;
const MAX_BACKOFF_MS = 5_000;

/**
 * Moves taps from the Redis stream to Postgres: a consumer group, batches written in one
 * transaction each, idempotent on (device, tap id) and on the journey's state, acknowledged only
 * after the commit. While Postgres is down the entries stay pending and are retried; entries a dead
 * consumer left pending are claimed after `claimIdleSeconds`.
 */
@Injectable()
export class TapPersister implements OnModuleDestroy {
  private readonly logger = new Logger(TapPersister.name);
  /** Unique per instance: two copies must never share a consumer (one would ack what the other holds). */
  private readonly consumer = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private client: RedisClient | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly knownPartitions = new Set<string>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly redis: RedisService,
    private readonly ledger: Ledger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Starts the loop (TapPersisterRunner decides where: see tap-persister.runner.ts). */
  async start(): Promise<void> {
    this.client = this.redis.client.duplicate();
    this.client.on('error', () => undefined);
    await this.client.connect();
    await this.ensureGroup();
    this.running = true;
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.running = false;
    await this.loop;
    if (this.client?.isOpen) await this.client.close();
  }

  /** The consumer group, created with the stream; again if Redis lost both. */
  private async ensureGroup(): Promise<void> {
    await this.client!.xGroupCreate(this.config.gate.streamKey, this.config.gate.consumerGroup, '0', { MKSTREAM: true }).catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
    });
  }

  /** Writes what the stream holds now and returns how many entries it acknowledged (tests, tools). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      // Claimed entries join our own pending ones: read them once.
      const claimed = await this.claimed();
      const entries = claimed.length > 0 ? claimed : [...(await this.read('0')), ...(await this.read('>'))];
      if (entries.length === 0) return total;
      await this.persistAndAck(entries);
      total += entries.length;
    }
  }

  private async run(): Promise<void> {
    let backoff = 0;
    let lastClaim = 0;
    let lastTrim = 0;
    while (this.running) {
      try {
        if (Date.now() - lastTrim > TRIM_EVERY_MS) {
          lastTrim = Date.now();
          await this.trim();
        }
        // Our own pending entries first (a batch that failed), then entries a dead consumer left, then new ones.
        let entries = await this.read('0');
        if (entries.length === 0 && Date.now() - lastClaim > (this.config.gate.claimIdleSeconds * 1000) / 2) {
          lastClaim = Date.now();
          entries = await this.claimed();
        }
        if (entries.length === 0) entries = await this.read('>', READ_BLOCK_MS);
        if (entries.length > 0) await this.persistAndAck(entries);
        backoff = 0;
        // A short batch means the stream has caught up: let taps gather rather than commit a few at a time
        // (fewer transactions, less CPU taken from the gate path on the same machine).
        if (entries.length < this.config.gate.persistBatchSize) await delay(BATCH_GATHER_MS);
      } catch (error) {
        if (!this.running) return;
        if (error instanceof Error && error.message.startsWith('NOGROUP')) {
          await this.ensureGroup().catch(() => undefined);
          continue;
        }
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2 || 100);
        this.logger.warn({ err: error }, `writing taps to Postgres failed; they wait in the stream, retrying in ${backoff} ms`);
        await delay(backoff);
      }
    }
  }

  /**
   * Drops the entries every consumer has acknowledged: those before the oldest pending one, or
   * before the last delivered one when nothing is pending. Unwritten taps are never trimmed.
   */
  private async trim(): Promise<void> {
    const { streamKey, consumerGroup } = this.config.gate;
    const [pending, groups] = await Promise.all([this.client!.xPending(streamKey, consumerGroup), this.client!.xInfoGroups(streamKey)]);
    const group = groups.find((candidate) => candidate.name === consumerGroup);
    const keepFrom = pending.pending > 0 ? pending.firstId : group?.['last-delivered-id'];
    if (keepFrom && keepFrom !== '0-0') await this.client!.xTrim(streamKey, 'MINID', keepFrom);
  }

  private async read(id: '0' | '>', block?: number): Promise<StreamEntry[]> {
    const reply = (await this.client!.xReadGroup(
      this.config.gate.consumerGroup,
      this.consumer,
      { key: this.config.gate.streamKey, id },
      { COUNT: this.config.gate.persistBatchSize, ...(block !== undefined && { BLOCK: block }) },
    )) as Array<{ messages: StreamEntry[] }> | null;
    return reply?.[0]?.messages ?? [];
  }

  private async claimed(): Promise<StreamEntry[]> {
    const reply = await this.client!.xAutoClaim(this.config.gate.streamKey, this.config.gate.consumerGroup, this.consumer, this.config.gate.claimIdleSeconds * 1000, '0-0', {
      COUNT: this.config.gate.persistBatchSize,
    });
    return reply.messages.filter((message) => message !== null);
  }

  private async persistAndAck(entries: StreamEntry[]): Promise<void> {
    await this.persist(entries.map((entry) => tapEventOf(entry.message)));
    await this.client!.xAck(
      this.config.gate.streamKey,
      this.config.gate.consumerGroup,
      entries.map((entry) => entry.id),
    );
  }

  /**
   * One transaction for the batch, a few statements whatever its size; replays of anything already
   * written change nothing (tap keys, and journeys closed only while open).
   */
  async persist(events: readonly TapEvent[]): Promise<void> {
    const days = new Set<number>();
    for (const event of events) {
      if (event.ev === 'tap') days.add(localDayNumber(Number(event.at)));
      if (event.jat) days.add(localDayNumber(Number(event.jat)));
    }
    for (const day of days) await this.ensurePartitions(day);
    await this.db.transaction(async (em) => {
      const fresh = await insertTaps(em, events.filter((event) => event.ev === 'tap'));
      const opened: TapEvent[] = [];
      const closed = new Map<string, TapEvent>();
      for (const event of events) {
        if (!event.jid || (event.ev === 'tap' && !fresh.has(tapKey(event.dev ?? '', event.tap ?? '')))) continue;
        if (event.ev === 'tap' && event.dir === 'entry') opened.push(event);
        else if (!closed.has(event.jid)) closed.set(event.jid, event);
      }
      await openJourneys(em, opened);
      for (const journey of await closeJourneys(em, [...closed.values()])) {
        if (journey.subject_kind !== 'payg' || Number(journey.charge) === 0) continue;
        const unpaid = await this.chargeWallet(em, journey.account_id, journey.id, Number(journey.charge));
        if (unpaid > 0) await em.query(`UPDATE journeys SET unpaid = $3 WHERE id = $1 AND entered_at = $2`, [journey.id, journey.entered_at, unpaid]);
      }
    });
  }

  /**
   * The fare from the wallet to the scheme, as far as the wallet covers it (the ledger keeps wallets
   * at zero or above); what it cannot cover is returned and kept on the journey as owed.
   */
  private async chargeWallet(em: EntityManager, accountId: string, journeyId: string, charge: number): Promise<number> {
    const { balance } = await this.ledger.walletBalance(em, accountId);
    const covered = Math.min(Math.max(balance, 0), charge);
    if (covered === 0) return charge;
    try {
      await this.ledger.transfer(em, { kind: 'fare', reference: journeyId, from: { wallet: accountId }, to: SYSTEM_LEDGER_ACCOUNTS.ticketSales, amount: covered });
      return charge - covered;
    } catch (error) {
      // A purchase spent the money between the two statements: owe it all rather than fail the batch.
      if (error instanceof DomainError && error.code === 'INSUFFICIENT_BALANCE') return charge;
      throw error;
    }
  }

  /** Today's tap and journey partitions, created once per process and day (under a lock: copies race). */
  private async ensurePartitions(day: number): Promise<void> {
    const suffix = compactLocalDate(day);
    if (this.knownPartitions.has(suffix)) return;
    const from = new Date(localDayStartMs(day)).toISOString();
    const to = new Date(localDayStartMs(day + 1)).toISOString();
    await this.db.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('gate-partitions'))`);
      for (const table of ['taps', 'journeys']) {
        await em.query(`CREATE TABLE IF NOT EXISTS ${table}_${suffix} PARTITION OF ${table} FOR VALUES FROM ('${from}') TO ('${to}')`);
      }
    });
    this.knownPartitions.add(suffix);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tapKey(deviceId: string, tapId: string): string {
  return `${deviceId}\u0000${tapId}`;
}

/**
 * The batch's events as Postgres rows, one text column per field of the tap event (gate-state.ts
 * TAP_EVENT_FIELDS): json_to_recordset reads them in C, with no per-value work here.
 */
const EVENT_ROWS = `json_to_recordset($1::json) AS e (${TAP_EVENT_FIELDS.map((field) => `"${field}" text`).join(', ')})`;

/** Inserts the taps not seen before and returns their keys. */
async function insertTaps(em: EntityManager, taps: readonly TapEvent[]): Promise<Set<string>> {
  if (taps.length === 0) return new Set();
  const rows = await em.query<Array<{ device_id: string; tap_id: string }>>(
    `WITH batch AS (SELECT DISTINCT ON (dev, tap) * FROM ${EVENT_ROWS}),
     fresh AS (
       INSERT INTO tap_keys (device_id, tap_id) SELECT dev, tap FROM batch ON CONFLICT DO NOTHING RETURNING device_id, tap_id
     )
     INSERT INTO taps (device_id, tap_id, occurred_at, direction, station_id, line_id, subject_kind, ticket_id, account_id, rider_category,
       verdict, reason, valid, offline, journey_id, fare, full_fare, charge)
     SELECT b.dev, b.tap, to_timestamp(b.at::bigint / 1000.0), b.dir, b.st, b.ln, b.kind, CASE WHEN b.kind = 'payg' THEN NULL ELSE b.sub END,
       NULLIF(b.acct, ''), b.cat, b.verdict, b.reason, b.valid = '1', b.off = '1', NULLIF(b.jid, '')::uuid,
       NULLIF(b.fare, '')::bigint, NULLIF(b."full", '')::bigint, b.charge::bigint
       FROM batch b JOIN fresh f ON f.device_id = b.dev AND f.tap_id = b.tap
     RETURNING device_id, tap_id`,
    [JSON.stringify(taps)],
  );
  return new Set(rows.map((row) => tapKey(row.device_id, row.tap_id)));
}

/** The entry side of a journey from any of its events: the journey id, and where and when it began. */
const JOURNEY_ENTRY = `NULLIF(e.jid, '')::uuid, to_timestamp(e.jat::bigint / 1000.0), e.kind, CASE WHEN e.kind = 'payg' THEN NULL ELSE e.sub END,
  NULLIF(e.acct, ''), e.cat, e.ln, e.jst`;

/** The journeys these entries opened (an earlier copy of an entry already did: nothing). */
async function openJourneys(em: EntityManager, entries: readonly TapEvent[]): Promise<void> {
  if (entries.length === 0) return;
  await em.query(
    `INSERT INTO journeys (id, entered_at, subject_kind, ticket_id, account_id, rider_category, line_id, entry_station_id, status)
     SELECT ${JOURNEY_ENTRY}, 'open' FROM ${EVENT_ROWS}
     ON CONFLICT (id, entered_at) DO NOTHING`,
    [JSON.stringify(entries)],
  );
}

interface ClosedJourney {
  id: string;
  entered_at: Date;
  subject_kind: string;
  account_id: string;
  charge: string;
}

/**
 * Closes journeys by an exit or a timeout, creating any whose entry has not arrived yet (a claimed
 * batch can come after a later one). Returns only the journeys this call closed.
 */
async function closeJourneys(em: EntityManager, closes: readonly TapEvent[]): Promise<ClosedJourney[]> {
  if (closes.length === 0) return [];
  return em.query<ClosedJourney[]>(
    `INSERT INTO journeys (id, entered_at, subject_kind, ticket_id, account_id, rider_category, line_id, entry_station_id,
       exit_station_id, exited_at, status, fare, full_fare, charge)
     SELECT ${JOURNEY_ENTRY},
            CASE WHEN e.ev = 'timeout' THEN NULL ELSE e.st END, CASE WHEN e.ev = 'timeout' THEN NULL ELSE to_timestamp(e.at::bigint / 1000.0) END,
            CASE WHEN e.ev = 'timeout' THEN 'timed_out' ELSE 'closed' END,
            COALESCE(NULLIF(e.fare, ''), '0')::bigint, COALESCE(NULLIF(e."full", ''), '0')::bigint, e.charge::bigint
       FROM ${EVENT_ROWS}
     ON CONFLICT (id, entered_at) DO UPDATE SET exit_station_id = EXCLUDED.exit_station_id, exited_at = EXCLUDED.exited_at,
       status = EXCLUDED.status, fare = EXCLUDED.fare, full_fare = EXCLUDED.full_fare, charge = EXCLUDED.charge
     WHERE journeys.status = 'open'
     RETURNING id, entered_at, subject_kind, account_id, charge`,
    [JSON.stringify(closes)],
  );
}
