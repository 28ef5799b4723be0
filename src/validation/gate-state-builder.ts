import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Leadership, type LeaderJob } from '../database/leadership';
import { withAdvisoryLock } from '../database/singleton-lease';
import { localDayNumber } from '../fares/domain/local-time';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import type { RiderCategory } from '../fares/rider-category';
import { RedisService } from '../redis/redis.service';
import { TicketsService } from '../tickets/tickets.service';
import { GateAccountsService } from './gate-accounts.service';
import { GATE_STATE_BUILT_KEY, GateKeys, openJourneyMember, type SubjectKind, type TripField } from '../gate-state/gate-state';
import { GateScript } from '../gate-state/gate-script';
import { MediaService } from '../media/media.service';
import { CardDebts } from '../bank-cards/card-debts';
import { GateService } from './gate.service';
import { TapPartitions } from './tap-partitions';

export interface RebuildProgress {
  (step: 'tickets' | 'accounts' | 'media' | 'bank cards' | 'journeys', done: number, total: number | null): void;
}

export interface RebuildCounts {
  tickets: number;
  accounts: number;
  media: number;
  bankCards: number;
  journeys: number;
}

interface OpenJourneyRow {
  id: string;
  entered_at: Date;
  subject_kind: SubjectKind;
  ticket_id: string | null;
  account_id: string | null;
  medium_ref: string | null;
  card_id: string | null;
  rider_category: RiderCategory;
  line_id: string;
  entry_station_id: string;
}

const SWEEP_EVERY_MS = 15_000;
const SWEEP_BATCH = 200;
/** The advisory lock one rebuild at a time holds (migrations hold 727_001). */
const REBUILD_LOCK_KEY = 727_003;

/**
 * Keeps the gate state whole: builds it from Postgres when Redis comes up empty (start-up) or on
 * demand (`npm run rebuild-gate-state`), and closes journeys left open past the limit (in the copy
 * that leads the singleton jobs, src/database/leadership.ts).
 */
@Injectable()
export class GateStateBuilder implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(GateStateBuilder.name);
  private sweeper: LeaderJob | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly tickets: TicketsService,
    private readonly redis: RedisService,
    private readonly accounts: GateAccountsService,
    private readonly gate: GateService,
    private readonly script: GateScript,
    private readonly keys: GateKeys,
    private readonly partitions: TapPartitions,
    private readonly leadership: Leadership,
    private readonly media: MediaService,
    private readonly bankCards: CardDebts,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.gate.rebuildOnEmptyRedis) await this.rebuildIfEmpty();
    this.sweeper = this.leadership.every(SWEEP_EVERY_MS, () => this.leaderRound(), (error) => this.logger.error({ err: error }, 'closing timed-out journeys failed'));
  }

  async onModuleDestroy(): Promise<void> {
    await this.sweeper?.stop();
  }

  /**
   * The start-up rebuild when Redis lost its data. Copies starting together take turns under the
   * rebuild's lock: the first rebuilds, the next find the state built and leave it (none answers
   * a gate before it is).
   */
  private async rebuildIfEmpty(): Promise<void> {
    if (await this.redis.client.exists(GATE_STATE_BUILT_KEY)) return;
    await withAdvisoryLock(this.db, REBUILD_LOCK_KEY, async () => {
      if (await this.redis.client.exists(GATE_STATE_BUILT_KEY)) return;
      this.logger.warn('Redis holds no gate state: rebuilding it from Postgres');
      await this.build(undefined, true);
    });
  }

  /** The leading copy's round: journeys past their limit closed, tomorrow's partitions made before any tap needs them. */
  private async leaderRound(): Promise<void> {
    await this.sweep();
    await this.partitions.ensure(localDayNumber(Date.now()) + 1);
  }

  /**
   * Tickets (through the tickets module), accounts, and with `openJourneys` the journeys Postgres
   * knows to be open. Only after Redis lost its data: on a live Redis a journey closed at a gate but
   * not yet in Postgres would be opened again. One rebuild at a time across copies.
   */
  rebuild(progress?: RebuildProgress, openJourneys = false): Promise<RebuildCounts> {
    return withAdvisoryLock(this.db, REBUILD_LOCK_KEY, () => this.build(progress, openJourneys));
  }

  private async build(progress: RebuildProgress = () => undefined, openJourneys: boolean): Promise<RebuildCounts> {
    progress('tickets', 0, null);
    const tickets = await this.tickets.rebuildGateState();
    progress('tickets', tickets, tickets);
    const accounts = await this.accounts.rebuild((done, total) => progress('accounts', done, total));
    progress('media', 0, null);
    const media = await this.media.rebuildGateState();
    progress('media', media, media);
    progress('bank cards', 0, null);
    const bankCards = await this.bankCards.rebuildGateState();
    progress('bank cards', bankCards, bankCards);
    const journeys = openJourneys ? await this.restoreOpenJourneys((done, total) => progress('journeys', done, total)) : 0;
    await this.redis.client.set(GATE_STATE_BUILT_KEY, new Date().toISOString());
    return { tickets, accounts, media, bankCards, journeys };
  }

  /**
   * Puts back the open journeys Postgres holds where Redis has none, so that their exits match and
   * those never closed still time out at the maximum fare.
   */
  private async restoreOpenJourneys(progress: (done: number, total: number) => void): Promise<number> {
    const rows = await this.db.query<OpenJourneyRow[]>(
      `SELECT id, entered_at, subject_kind, ticket_id, account_id, medium_ref, card_id, rider_category, line_id, entry_station_id FROM journeys WHERE status = 'open'`,
    );
    const limitMs = this.config.gate.journeyLimitMinutes * 60_000;
    let restored = 0;
    for (const row of rows) {
      const payg = row.subject_kind === 'payg' || row.subject_kind === 'bank_card';
      const subjectId =
        row.subject_kind === 'payg' ? row.account_id : row.subject_kind === 'free' ? row.medium_ref : row.subject_kind === 'bank_card' ? row.card_id : row.ticket_id;
      if (subjectId === null) continue;
      const tripKey = this.keys.trip(row.subject_kind, subjectId);
      const enteredAt = row.entered_at.getTime();
      const fares = payg ? this.gate.timeoutFares(row.line_id, row.rider_category, enteredAt) : undefined;
      // Claiming the journey id first leaves alone a journey the gates opened meanwhile.
      if (await this.redis.client.hSetNX(tripKey, 'jid' satisfies TripField, row.id)) {
        const trip: Record<Exclude<TripField, 'jid'>, string> = {
          st: row.entry_station_id,
          ln: row.line_id,
          at: String(enteredAt),
          bit: String(this.gate.modeBitOf(row.line_id)),
          max: String(fares?.maxFare ?? 0),
          full: String(fares?.maxFullFare ?? 0),
          cat: row.rider_category,
          // An account's journey a linked bank card pays.
          pay: row.subject_kind === 'payg' ? (row.card_id ?? '') : '',
        };
        await this.redis.client.hSet(tripKey, trip);
        await this.redis.client.zAdd(this.keys.openJourneys(this.keys.shardOfSubject(row.subject_kind, subjectId)), {
          score: enteredAt + limitMs,
          value: openJourneyMember(row.subject_kind, subjectId),
        });
        restored++;
      }
      progress(restored, rows.length);
    }
    progress(restored, restored);
    return restored;
  }

  /** Closes the journeys whose time is up, shard by shard; returns how many it closed. */
  async sweep(now = Date.now()): Promise<number> {
    let closed = 0;
    for (const shard of this.keys.allShards()) closed += await this.sweepShard(shard, now);
    return closed;
  }

  private async sweepShard(shard: number, now: number): Promise<number> {
    const index = this.keys.openJourneys(shard);
    const due = await this.redis.client.zRangeByScore(index, '-inf', now, { LIMIT: { offset: 0, count: SWEEP_BATCH } });
    let closed = 0;
    for (const member of due) {
      const card = member.startsWith('c:');
      const payg = member.startsWith('a:') || card;
      const free = member.startsWith('m:');
      const subjectId = member.slice(2);
      const tripKey = this.keys.trip(card ? 'bank_card' : payg ? 'payg' : free ? 'free' : 'pass', subjectId);
      const [lineId, riderCategory, kind] = await Promise.all([
        this.redis.client.hGet(tripKey, 'ln' satisfies TripField),
        this.redis.client.hGet(tripKey, 'cat' satisfies TripField),
        payg || free ? Promise.resolve(card ? 'bank_card' : payg ? 'payg' : 'free') : this.redis.client.hGet(this.keys.ticketState(subjectId), 'kind'),
      ]);
      if (lineId === null || riderCategory === null) {
        await this.redis.client.zRem(index, member); // closed meanwhile
        continue;
      }
      const fares = payg ? this.gate.timeoutFares(lineId, riderCategory as RiderCategory, now) : undefined;
      const stale = await this.script.closeIfStale({
        at: now,
        direction: 'timeout',
        kind: (kind === 'single' || kind === 'free' || kind === 'bank_card' ? kind : payg ? 'payg' : 'pass') satisfies SubjectKind,
        subjectId,
        nodeReason: '',
        deviceId: 'sweeper',
        tapId: 'timeout',
        stationId: '',
        lineId,
        modeBit: 0,
        journeyId: '',
        offline: false,
        riderCategory,
        ...(fares && { fares }),
      });
      if (stale) closed++;
    }
    return closed;
  }
}
