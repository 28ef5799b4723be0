import type { TapMediumKind } from '../media/medium-kinds';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { DomainError, NotFoundError } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { localDayNumber, localWeekNumber } from '../fares/domain/local-time';
import { FaresService } from '../fares/fares.service';
import { AccountGateState } from '../gate-state/account-gate-state';
import { FREE_RIDER_CATEGORIES, type RiderCategory } from '../fares/rider-category';
import { IdempotencyStore, type IdempotentRequest } from '../payments/idempotency';
import { GateWallet } from '../payments/gate-wallet';
import { Ledger, SYSTEM_LEDGER_ACCOUNTS, type WalletMovement } from '../payments/ledger';
import { RedisRetries } from '../redis/redis-retries';
import type { ClaimJourneyDto, JourneyDto, ListJourneysQuery } from './journeys.dto';

const ZONE = `'Asia/Ho_Chi_Minh'`;
const DAY_MS = 24 * 3600_000;

interface JourneyRow {
  id: string;
  status: JourneyDto['status'];
  subject_kind: 'single' | 'pass' | 'payg';
  medium_kind: TapMediumKind;
  ticket_id: string | null;
  account_id: string | null;
  /** A linked bank card that pays the journey (its fare never touches the wallet). */
  card_id: string | null;
  line_id: string;
  operator_id: string;
  entered_at: Date;
  entry_station_id: string;
  exited_at: Date | null;
  exit_station_id: string | null;
  rider_category: string;
  fare: string | null;
  full_fare: string | null;
  charge: string;
  unpaid: string;
  c_kind: 'auto_completion' | 'claim' | null;
  c_rule_id: string | null;
  c_exit_station_id: string | null;
  c_original_charge: string | null;
  c_charge: string | null;
  c_refunded: string | null;
  c_created_at: Date | null;
  balance_after: string | null;
}

/** A journey closed at the maximum fare that a correction may lower. */
/** A correction written in a transaction, for `afterCommit`. */
export interface Correction {
  refunded: number;
  movements: readonly WalletMovement[];
  journey: CorrectableJourney;
}

export interface CorrectableJourney {
  id: string;
  enteredAt: Date;
  /** When the gates closed it at the maximum fare: its day and week counted that fare towards the caps. */
  timedOutAt: Date;
  accountId: string;
  lineId: string;
  operatorId: string;
  entryStationId: string;
  riderCategory: RiderCategory;
  charge: number;
}

export type CorrectionKind = 'auto_completion' | 'claim';

const JOURNEY_SELECT = `
  SELECT j.id, j.status, j.subject_kind, j.medium_kind, j.ticket_id, j.account_id, j.card_id, j.line_id, l.operator_id, j.entered_at, j.entry_station_id, j.exited_at,
         j.exit_station_id, j.rider_category, j.fare, j.full_fare, j.charge, j.unpaid,
         c.kind AS c_kind, c.rule_id AS c_rule_id, c.exit_station_id AS c_exit_station_id, c.original_charge AS c_original_charge,
         c.charge AS c_charge, c.refunded AS c_refunded, c.created_at AS c_created_at, b.balance_after
    FROM journeys j
    JOIN lines l ON l.id = j.line_id
    LEFT JOIN journey_corrections c ON c.journey_id = j.id
    LEFT JOIN LATERAL (
      SELECT max(e.id) AS entry_id FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id AND e.ledger_account_id = 'wallet:' || j.account_id
       WHERE j.subject_kind = 'payg' AND t.reference = j.id::text AND t.kind = 'fare'
    ) f ON true
    LEFT JOIN LATERAL (
      SELECT sum(e.amount) AS balance_after FROM ledger_entries e WHERE e.ledger_account_id = 'wallet:' || j.account_id AND e.id <= f.entry_id
    ) b ON f.entry_id IS NOT NULL`;

/**
 * A rider's journeys as the tap persister wrote them, with what each cost, and corrections of
 * journeys closed at the maximum fare: riders' claims here, automatic completions by JourneyCompletion.
 */
@Injectable()
export class JourneysService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly fares: FaresService,
    private readonly ledger: Ledger,
    private readonly idempotency: IdempotencyStore,
    private readonly gateWallet: GateWallet,
    private readonly gateState: AccountGateState,
    private readonly retries: RedisRetries,
  ) {}

  /** The account's journeys, newest first: pay-as-you-go ones and those of its tickets (of one operator's lines, if given). */
  async history(accountId: string, query: ListJourneysQuery, em: EntityManager = this.db.manager, operatorId?: string): Promise<JourneyDto[]> {
    const rows = await em.query<JourneyRow[]>(
      `${JOURNEY_SELECT}
        WHERE (j.account_id = $1 OR j.ticket_id IN (SELECT t.id::text FROM tickets t WHERE t.account_id = $1::uuid))
          AND ($3::text IS NULL OR l.operator_id = $3)
        ORDER BY j.entered_at DESC, j.id LIMIT $2`,
      [accountId, query.limit ?? 50, operatorId ?? null],
    );
    return rows.map((row) => this.toDto(row));
  }

  /**
   * The rider says where they left a journey closed at the maximum fare: it is charged the fare to that
   * exit instead and the difference goes back to the wallet, once per journey, within the claim window,
   * at most `claimsPerMonth` a local month.
   */
  async claim(accountId: string, journeyId: string, body: ClaimJourneyDto, request: IdempotentRequest): Promise<JourneyDto> {
    if (!isUuid(journeyId)) throw new NotFoundError('Journey', journeyId);
    let corrected: Correction | undefined;
    const { response } = await this.db.transaction((em) =>
      this.idempotency.once(em, accountId, request, async () => {
        // One claim at a time per rider, so two at once cannot both pass the monthly limit.
        await em.query(`SELECT pg_advisory_xact_lock(hashtext('journey-claims:' || $1))`, [accountId]);
        const journey = await this.correctable(em, journeyId, accountId);
        if (Date.now() - journey.enteredAt.getTime() > this.config.riders.claimWindowDays * DAY_MS) {
          throw new DomainError('conflict', 'CLAIM_WINDOW_PASSED', `Journeys can be claimed within ${this.config.riders.claimWindowDays} days`);
        }
        const [{ count }] = await em.query<Array<{ count: number }>>(
          `SELECT count(*)::int AS count FROM journey_corrections
            WHERE account_id = $1 AND kind = 'claim' AND created_at >= date_trunc('month', now() AT TIME ZONE ${ZONE}) AT TIME ZONE ${ZONE}`,
          [accountId],
        );
        if (count >= this.config.riders.claimsPerMonth) {
          throw new DomainError('conflict', 'CLAIM_LIMIT_REACHED', `At most ${this.config.riders.claimsPerMonth} claims a month; call customer service`);
        }
        corrected = await this.correct(em, journey, body.exitStationId, 'claim', null);
        if (corrected.refunded === 0) throw new DomainError('conflict', 'NOTHING_TO_REFUND', 'That exit costs no less than what the journey was charged');
        return this.one(em, journeyId);
      }),
    );
    if (corrected) await this.afterCommit(corrected);
    return response;
  }

  /**
   * The journey, locked, if it is the account's pay-as-you-go journey closed at the maximum fare,
   * charged, fully paid and not corrected yet; 404 or 409 JOURNEY_NOT_CLAIMABLE otherwise.
   */
  async correctable(em: EntityManager, journeyId: string, accountId: string): Promise<CorrectableJourney> {
    const [row] = await em.query<Array<JourneyRow & { corrected: boolean; timed_out_at: Date | null }>>(
      `SELECT j.id, j.status, j.subject_kind, j.account_id, j.card_id, j.line_id, l.operator_id, j.entered_at, j.timed_out_at, j.entry_station_id, j.rider_category, j.charge, j.unpaid,
              EXISTS (SELECT 1 FROM journey_corrections c WHERE c.journey_id = j.id) AS corrected
         FROM journeys j JOIN lines l ON l.id = j.line_id WHERE j.id = $1 AND j.account_id = $2 FOR UPDATE OF j`,
      [journeyId, accountId],
    );
    if (!row) throw new NotFoundError('Journey', journeyId);
    const notClaimable = (why: string) => new DomainError('conflict', 'JOURNEY_NOT_CLAIMABLE', why);
    if (row.corrected) throw new DomainError('conflict', 'JOURNEY_ALREADY_CORRECTED', 'This journey was already corrected');
    if (row.subject_kind !== 'payg' || row.status !== 'timed_out') throw notClaimable('Only pay-as-you-go journeys closed at the maximum fare can be claimed');
    if (row.card_id !== null) throw notClaimable('A bank card pays this journey: its bank, not the wallet, was charged');
    if (Number(row.charge) === 0) throw notClaimable('This journey charged nothing');
    if (Number(row.unpaid) > 0) throw notClaimable('This journey is not paid for yet; top up first');
    return {
      id: row.id,
      enteredAt: row.entered_at,
      // Rows written before the timeout's time was kept: the sweeper closes a journey at the time limit.
      timedOutAt: row.timed_out_at ?? new Date(row.entered_at.getTime() + this.config.gate.journeyLimitMinutes * 60_000),
      accountId,
      lineId: row.line_id,
      operatorId: row.operator_id,
      entryStationId: row.entry_station_id,
      riderCategory: row.rider_category as RiderCategory,
      charge: Number(row.charge),
    };
  }

  /**
   * Charges the journey the fare from its entry to `exitStationId` (at the time it began, for its
   * rider category; never more than it was charged) and pays the difference back to the wallet as a
   * ledger transfer, in the caller's transaction. Returns the amount refunded (0: nothing written) and
   * what the gates must hear, which the caller hands to `afterCommit` once its transaction committed.
   */
  async correct(em: EntityManager, journey: CorrectableJourney, exitStationId: string, kind: CorrectionKind, ruleId: string | null): Promise<Correction> {
    const quote = this.fares.quote(
      { lineId: journey.lineId, from: journey.entryStationId, to: exitStationId, riderCategory: journey.riderCategory, at: journey.enteredAt.toISOString() },
      undefined,
    );
    const charge = Math.min(quote.amount, journey.charge);
    const refunded = journey.charge - charge;
    if (refunded === 0) return { refunded, movements: [], journey };
    await em.query(
      `INSERT INTO journey_corrections (journey_id, journey_entered_at, account_id, operator_id, line_id, kind, rule_id, exit_station_id, original_charge, charge, refunded)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [journey.id, journey.enteredAt, journey.accountId, journey.operatorId, journey.lineId, kind, ruleId, exitStationId, journey.charge, charge, refunded],
    );
    const movements = await this.ledger.transfer(em, {
      kind: 'journey_correction',
      reference: journey.id,
      from: SYSTEM_LEDGER_ACCOUNTS.ticketSales,
      to: { wallet: journey.accountId },
      amount: refunded,
    });
    await this.gateWallet.duringTransaction(em, movements);
    return { refunded, movements, journey };
  }

  /**
   * Once the correction's transaction committed: the gates' balance gets the refund (GateWallet), and
   * the cap spend of the day and week the gates counted the maximum fare in (when the journey timed
   * out) is lowered by it (gate-state's port, retried until Redis takes it), so a corrected rider does
   * not reach a cap early.
   */
  async afterCommit(correction: Correction): Promise<void> {
    await this.gateWallet.afterCommit(correction.movements);
    const { refunded, journey } = correction;
    if (refunded === 0) return;
    const countedAt = journey.timedOutAt.getTime();
    const spend = { day: localDayNumber(countedAt), week: localWeekNumber(countedAt), amount: refunded };
    await this.retries.write(`the cap spend refund of journey ${journey.id} (${refunded} đồng) of account ${journey.accountId}`, () =>
      this.gateState.lowerSpend(journey.accountId, `journey_correction:${journey.id}`, spend),
    );
  }

  private async one(em: EntityManager, journeyId: string): Promise<JourneyDto> {
    const [row] = await em.query<JourneyRow[]>(`${JOURNEY_SELECT} WHERE j.id = $1`, [journeyId]);
    if (!row) throw new NotFoundError('Journey', journeyId);
    return this.toDto(row);
  }

  private toDto(row: JourneyRow): JourneyDto {
    const fare = row.fare === null ? undefined : Number(row.fare);
    const fullFare = row.full_fare === null ? undefined : Number(row.full_fare);
    const charge = Number(row.charge);
    const payg = row.subject_kind === 'payg';
    return {
      id: row.id,
      status: row.status,
      mediumKind: row.subject_kind === 'payg' ? 'pay_as_you_go' : row.subject_kind,
      medium: row.medium_kind,
      ...(row.ticket_id === null ? {} : { ticketId: row.ticket_id }),
      lineId: row.line_id,
      operatorId: row.operator_id,
      enteredAt: row.entered_at.toISOString(),
      entryStationId: row.entry_station_id,
      ...(row.exited_at === null ? {} : { exitedAt: row.exited_at.toISOString() }),
      ...(row.exit_station_id === null ? {} : { exitStationId: row.exit_station_id }),
      riderCategory: row.rider_category,
      ...(fare === undefined ? {} : { fare }),
      ...(fullFare === undefined ? {} : { fullFare }),
      charge,
      unpaid: Number(row.unpaid),
      capApplied: payg && fare !== undefined && charge < fare,
      reduction: reductionOf(row.rider_category, fare, fullFare),
      ...(row.balance_after === null ? {} : { balanceAfter: Number(row.balance_after) }),
      ...(row.c_kind === null
        ? {}
        : {
            correction: {
              kind: row.c_kind,
              ...(row.c_rule_id === null ? {} : { ruleId: row.c_rule_id }),
              exitStationId: row.c_exit_station_id!,
              originalCharge: Number(row.c_original_charge),
              charge: Number(row.c_charge),
              refunded: Number(row.c_refunded),
              createdAt: row.c_created_at!.toISOString(),
            },
          }),
      claim: this.claimStateOf(row, charge),
    };
  }

  private claimStateOf(row: JourneyRow, charge: number): JourneyDto['claim'] {
    if (row.c_kind === 'claim') return 'claimed';
    if (row.c_kind === 'auto_completion') return 'auto_completed';
    if (row.subject_kind !== 'payg' || row.card_id !== null || row.status !== 'timed_out' || charge === 0) return 'not_applicable';
    return Date.now() - row.entered_at.getTime() > this.config.riders.claimWindowDays * DAY_MS ? 'window_passed' : 'claimable';
  }
}

function reductionOf(riderCategory: string, fare: number | undefined, fullFare: number | undefined): JourneyDto['reduction'] {
  if (fare === undefined || fullFare === undefined || fare >= fullFare) return 'none';
  if ((FREE_RIDER_CATEGORIES as readonly string[]).includes(riderCategory)) return 'free_category';
  return fare === 0 ? 'waiver' : 'concession';
}
