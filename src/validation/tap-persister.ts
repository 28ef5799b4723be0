import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DataSource, type EntityManager } from 'typeorm';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { compactLocalDate, localDayNumber, localDayStartMs } from '../fares/domain/local-time';
import { Ledger, SYSTEM_LEDGER_ACCOUNTS } from '../payments/ledger';
import { RedisService, type RedisClient } from '../redis/redis.service';

/** A stream entry as gate.lua wrote it (see finish() and closeStale() there). */
export type TapEvent = Record<string, string>;

interface StreamEntry {
  id: string;
  message: TapEvent;
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
export class TapPersister implements OnApplicationBootstrap, OnModuleDestroy {
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

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.gate.persisterEnabled) return;
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
    await this.persist(entries.map((entry) => entry.message));
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
        if (!event.jid || (event.ev === 'tap' && !fresh.has(tapKey(event.dev, event.tap)))) continue;
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

/** Inserts the taps not seen before and returns their keys. */
async function insertTaps(em: EntityManager, taps: readonly TapEvent[]): Promise<Set<string>> {
  if (taps.length === 0) return new Set();
  const column = (pick: (tap: TapEvent) => string | number | boolean | null) => taps.map(pick);
  const rows = await em.query<Array<{ device_id: string; tap_id: string }>>(
    `WITH batch AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
         $10::text[], $11::text[], $12::text[], $13::boolean[], $14::boolean[], $15::uuid[], $16::bigint[], $17::bigint[], $18::bigint[])
         AS t (device_id, tap_id, at_ms, direction, station_id, line_id, subject_kind, ticket_id, account_id, rider_category,
               verdict, reason, valid, offline, journey_id, fare, full_fare, charge)
     ), fresh AS (
       INSERT INTO tap_keys (device_id, tap_id) SELECT device_id, tap_id FROM batch ON CONFLICT DO NOTHING RETURNING device_id, tap_id
     )
     INSERT INTO taps (device_id, tap_id, occurred_at, direction, station_id, line_id, subject_kind, ticket_id, account_id, rider_category,
       verdict, reason, valid, offline, journey_id, fare, full_fare, charge)
     SELECT b.device_id, b.tap_id, to_timestamp(b.at_ms / 1000.0), b.direction, b.station_id, b.line_id, b.subject_kind, b.ticket_id, b.account_id,
       b.rider_category, b.verdict, b.reason, b.valid, b.offline, b.journey_id, b.fare, b.full_fare, b.charge
       FROM batch b JOIN fresh f USING (device_id, tap_id)
     RETURNING device_id, tap_id`,
    [
      column((tap) => tap.dev),
      column((tap) => tap.tap),
      column((tap) => Number(tap.at)),
      column((tap) => tap.dir),
      column((tap) => tap.st),
      column((tap) => tap.ln),
      column((tap) => tap.kind),
      column((tap) => (tap.kind === 'payg' ? null : tap.sub)),
      column((tap) => tap.acct || null),
      column((tap) => tap.cat),
      column((tap) => tap.verdict),
      column((tap) => tap.reason),
      column((tap) => tap.valid === '1'),
      column((tap) => tap.off === '1'),
      column((tap) => tap.jid || null),
      column((tap) => (tap.fare ? Number(tap.fare) : null)),
      column((tap) => (tap.full ? Number(tap.full) : null)),
      column((tap) => Number(tap.charge)),
    ],
  );
  return new Set(rows.map((row) => tapKey(row.device_id, row.tap_id)));
}

const JOURNEY_COLUMNS = `$1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]`;

/** The journeys these entries opened (an earlier copy of an entry already did: nothing). */
async function openJourneys(em: EntityManager, entries: readonly TapEvent[]): Promise<void> {
  if (entries.length === 0) return;
  await em.query(
    `INSERT INTO journeys (id, entered_at, subject_kind, ticket_id, account_id, rider_category, line_id, entry_station_id, status)
     SELECT id, to_timestamp(at_ms / 1000.0), kind, ticket_id, account_id, category, line_id, station_id, 'open'
       FROM unnest(${JOURNEY_COLUMNS}) AS j (id, at_ms, kind, ticket_id, account_id, category, line_id, station_id)
     ON CONFLICT (id, entered_at) DO NOTHING`,
    journeyColumns(entries),
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
  const timedOut = (event: TapEvent) => event.ev === 'timeout';
  return em.query<ClosedJourney[]>(
    `INSERT INTO journeys (id, entered_at, subject_kind, ticket_id, account_id, rider_category, line_id, entry_station_id,
       exit_station_id, exited_at, status, fare, full_fare, charge)
     SELECT id, to_timestamp(at_ms / 1000.0), kind, ticket_id, account_id, category, line_id, station_id,
            exit_station_id, to_timestamp(exit_ms / 1000.0), status, fare, full_fare, charge
       FROM unnest(${JOURNEY_COLUMNS}, $9::text[], $10::bigint[], $11::text[], $12::bigint[], $13::bigint[], $14::bigint[])
         AS j (id, at_ms, kind, ticket_id, account_id, category, line_id, station_id, exit_station_id, exit_ms, status, fare, full_fare, charge)
     ON CONFLICT (id, entered_at) DO UPDATE SET exit_station_id = EXCLUDED.exit_station_id, exited_at = EXCLUDED.exited_at,
       status = EXCLUDED.status, fare = EXCLUDED.fare, full_fare = EXCLUDED.full_fare, charge = EXCLUDED.charge
     WHERE journeys.status = 'open'
     RETURNING id, entered_at, subject_kind, account_id, charge`,
    [
      ...journeyColumns(closes),
      closes.map((event) => (timedOut(event) ? null : event.st)),
      closes.map((event) => (timedOut(event) ? null : Number(event.at))),
      closes.map((event) => (timedOut(event) ? 'timed_out' : 'closed')),
      closes.map((event) => Number(event.fare || 0)),
      closes.map((event) => Number(event.full || 0)),
      closes.map((event) => Number(event.charge)),
    ],
  );
}

/** The entry side of journeys: the journey id, and where and when it began. */
function journeyColumns(events: readonly TapEvent[]): unknown[] {
  return [
    events.map((event) => event.jid),
    events.map((event) => Number(event.jat)),
    events.map((event) => event.kind),
    events.map((event) => (event.kind === 'payg' ? null : event.sub)),
    events.map((event) => event.acct || null),
    events.map((event) => event.cat),
    events.map((event) => event.ln),
    events.map((event) => event.jst),
  ];
}
