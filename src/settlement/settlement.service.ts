import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import stableStringify from 'fast-json-stable-stringify';
import { createHash } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import type { AuthUser } from '../common/auth-user';
import { DomainError } from '../common/domain-error';
import { operatorScope } from '../common/operator-scope';
import { isUniqueViolation } from '../database/postgres-errors';
import { localDateAt, localDayNumber } from '../fares/domain/local-time';
import type { Readable } from 'node:stream';
import { SettlementQueries, toFareTransaction, type DayBounds, type TidesFareTransaction } from './settlement.queries';
import { tidesPackageZip, type TidesDevice, type TidesStop } from './tides-package';
import { customerServiceFigures } from './customer-service';
import { adjustmentsFor, buildStatement, forOperator, lateEventAdjustments, settledAmounts, type AdjustmentLine, type DailyStatement, type DayFigures } from './statement';

const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * How long after a day is closed its late events are still picked up: the closed days re-checked when
 * an open day is settled. Offline validators upload within hours; a week is ample.
 */
export const LATE_EVENT_WINDOW_DAYS = 7;
const FETCH_SIZE = 5_000;

/** Steps of settling one day, for progress on a terminal: `done` of `total`. */
export type SettlementProgress = (step: string, done: number, total: number) => void;

const DAY_STEPS = ['sales', 'refunds', 'single tickets', 'pass day parts', 'pass use', 'pay as you go', 'bank cards', 'card recoveries', 'free rides', 'maximum fares', 'rejected taps', 'revenue at risk'] as const;

/** The first and last days a statement can be asked for. */
const FIRST_DAY = '2000-01-01';
const LAST_DAY = '2999-12-31';

/** A local date `YYYY-MM-DD` as the bounds of its day in Asia/Ho_Chi_Minh, or 400 when it is no date. */
export function dayBounds(date: string): DayBounds {
  const start = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00+07:00`) : NaN;
  // Years the scheme can have days in: outside them Postgres' date and timestamp ranges end in a 500.
  if (Number.isNaN(start) || localDateAt(start) !== date || date < FIRST_DAY || date > LAST_DAY) {
    throw new DomainError('invalid', 'VALIDATION_FAILED', `${JSON.stringify(date)} is not a date`, [{ field: 'date', problem: `must be a local date YYYY-MM-DD from ${FIRST_DAY} to ${LAST_DAY}` }]);
  }
  return { date, start: new Date(start), end: new Date(start + DAY_MS) };
}

function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The SHA-256 of a statement's canonical JSON (keys sorted), taken with its sha256 field null. */
export function statementHash(statement: DailyStatement): string {
  return createHash('sha256').update(stableStringify({ ...statement, sha256: null })).digest('hex');
}

/**
 * Daily settlement: figures aggregated in Postgres, allocated by the pure domain, frozen on close.
 * An open day is recomputed on every request from the record, so re-running it gives the same figures
 * as long as the record is the same; a closed day is read back as frozen.
 */
@Injectable()
export class SettlementService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditLog,
  ) {}

  async statement(user: AuthUser, date: string, requestedOperatorId: string | undefined): Promise<DailyStatement> {
    const operatorId = operatorScope(user, requestedOperatorId);
    const statement = await this.schemeStatement(dayBounds(date));
    return operatorId === undefined ? statement : forOperator(statement, operatorId);
  }

  /** The scheme-wide statement: frozen if the day is closed, else computed now with the adjustments landing on it. */
  async schemeStatement(day: DayBounds, progress?: SettlementProgress): Promise<DailyStatement> {
    return this.snapshot(async (em) => (await closedStatement(em, day.date)) ?? this.openStatement(em, day, progress));
  }

  async close(user: AuthUser, date: string, progress?: SettlementProgress): Promise<DailyStatement> {
    const day = dayBounds(date);
    if (localDayNumber(day.start.getTime()) > localDayNumber(Date.now())) {
      throw new DomainError('conflict', 'DAY_NOT_STARTED', `${date} has not started yet: only a day that has begun can be closed`);
    }
    const alreadyClosed = () => new DomainError('conflict', 'DAY_ALREADY_CLOSED', `${date} is already closed; later events land in the next open day`);
    try {
      return await this.db.transaction('REPEATABLE READ', async (em) => {
        await withDayPlans(em);
        if (await closedStatement(em, date)) throw alreadyClosed();
        const open = await this.openStatement(em, day, progress);
        if (!open.check.balanced) throw new Error(`the statement of ${date} does not balance: ${JSON.stringify(open.check)}`);
        const closed: DailyStatement = { ...open, status: 'closed', closedAt: new Date().toISOString() };
        const frozen = { ...closed, sha256: statementHash(closed) };
        await em.query(`INSERT INTO settlement_days (day, closed_at, closed_by, statement, sha256) VALUES ($1, $2, $3, $4, $5)`, [
          date,
          frozen.closedAt,
          user.id,
          JSON.stringify(frozen),
          frozen.sha256,
        ]);
        await this.audit.record(em, user, {
          action: 'settlement.day_closed',
          subjectKind: 'settlement_day',
          subjectId: date,
          reason: 'day_close',
          before: { status: open.status },
          after: { status: frozen.status, closedAt: frozen.closedAt, sha256: frozen.sha256 },
        });
        return frozen;
      });
    } catch (error) {
      // Two closes of one day at once: the day's primary key lets one through.
      if (isUniqueViolation(error)) throw alreadyClosed();
      throw error;
    }
  }

  /**
   * The day's fare transactions in TIDES shape, read through a server-side cursor in a read-only
   * snapshot, a few thousand at a time: a day of millions of taps streams in constant memory.
   */
  fareTransactions(user: AuthUser, date: string, requestedOperatorId: string | undefined): AsyncGenerator<TidesFareTransaction> {
    // Checked before the first row: once streaming has begun, the status can no longer change.
    const operatorId = operatorScope(user, requestedOperatorId) ?? null;
    return this.streamFareTransactions(dayBounds(date), operatorId);
  }

  /**
   * The same transactions as a TIDES data package (zip), with the devices and stations they name
   * (see tides-package.ts). Scope is checked before the first byte.
   */
  fareTransactionsPackage(user: AuthUser, date: string, requestedOperatorId: string | undefined): Readable {
    const operatorId = operatorScope(user, requestedOperatorId) ?? null;
    const day = dayBounds(date);
    return tidesPackageZip({
      date: day.date,
      operatorId,
      transactions: this.streamFareTransactions(day, operatorId),
      devices: (ids) =>
        this.db.query<TidesDevice[]>(
          `SELECT id AS device_id, station_id AS stop_id, NULL AS vehicle_id, NULL AS train_car_id,
                  CASE kind WHEN 'gate' THEN 'Fare gate' ELSE 'Farebox' END AS device_type, NULL AS device_vendor, NULL AS device_model,
                  CASE kind WHEN 'gate' THEN 'Entrance/exit (not located on a vehicle).' ELSE 'Front door.' END AS device_location
             FROM devices WHERE id = ANY ($1::text[]) ORDER BY id`,
          [ids],
        ),
      stops: (ids) =>
        this.db.query<TidesStop[]>(`SELECT id AS stop_id, name AS stop_name, line_id AS route_id FROM stations WHERE id = ANY ($1::text[]) ORDER BY id`, [ids]),
    });
  }

  private async *streamFareTransactions(day: DayBounds, operatorId: string | null): AsyncGenerator<TidesFareTransaction> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('REPEATABLE READ');
      await runner.query(`SET TRANSACTION READ ONLY`);
      await withDayPlans(runner.manager);
      await runner.query(`DECLARE fare_transactions NO SCROLL CURSOR FOR ${SettlementQueries.FARE_TRANSACTIONS}`, [day.start, day.end, operatorId]);
      for (;;) {
        const rows = (await runner.query(`FETCH ${FETCH_SIZE} FROM fare_transactions`)) as Array<Record<string, string | boolean | Date | null>>;
        for (const row of rows) yield toFareTransaction(day.date, row);
        if (rows.length < FETCH_SIZE) break;
      }
      await runner.commitTransaction();
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  }

  /** One consistent snapshot for every query of a statement, so its sections agree with each other. */
  private snapshot<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction('REPEATABLE READ', async (em) => {
      await em.query(`SET TRANSACTION READ ONLY`);
      await withDayPlans(em);
      return work(em);
    });
  }

  private async openStatement(em: EntityManager, day: DayBounds, progress?: SettlementProgress): Promise<DailyStatement> {
    const figures = await dayFigures(em, day, progress);
    return buildStatement(figures, await this.adjustmentsLandingOn(em, day.date));
  }

  /**
   * Late events of closed days land on the first open day after them: for each closed day in the
   * unbroken run of closed days just before `date` (at most LATE_EVENT_WINDOW_DAYS), what it comes to
   * now less what was frozen and what the closed days since already adjusted.
   */
  private async adjustmentsLandingOn(em: EntityManager, date: string): Promise<AdjustmentLine[]> {
    const closed = await em.query<Array<{ day: string; statement: DailyStatement }>>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, statement FROM settlement_days WHERE day >= $1 AND day < $2 ORDER BY day DESC`,
      [shiftDate(date, -LATE_EVENT_WINDOW_DAYS), date],
    );
    const run: Array<{ day: string; statement: DailyStatement }> = [];
    for (const [index, row] of closed.entries()) {
      if (row.day !== shiftDate(date, -(index + 1))) break;
      run.push(row);
    }
    const lines: AdjustmentLine[] = [];
    for (const { day, statement } of [...run].reverse()) {
      const now = buildStatement(await dayFigures(em, dayBounds(day)), []);
      const alreadyAdjusted = run.filter((later) => later.day > day).flatMap((later) => lateEventAdjustments(later.statement).filter((row) => row.belongsTo === day));
      lines.push(...adjustmentsFor(day, settledAmounts(now), settledAmounts(statement), alreadyAdjusted));
    }
    return lines;
  }
}

/**
 * Every settlement query aggregates a whole day; the planner cannot estimate how many passes a day's
 * filters keep and, guessing few, nests loops over the day's journeys (minutes at a million rows).
 * Hash joins are right for all of them, so nested loops are off for the transaction.
 */
async function withDayPlans(em: EntityManager): Promise<void> {
  await em.query(`SET LOCAL enable_nestloop = off`);
}

async function closedStatement(em: EntityManager, date: string): Promise<DailyStatement | undefined> {
  const [row] = await em.query<Array<{ statement: DailyStatement }>>(`SELECT statement FROM settlement_days WHERE day = $1`, [date]);
  return row?.statement;
}

async function closedAt(em: EntityManager, date: string): Promise<Date | undefined> {
  const [row] = await em.query<Array<{ closed_at: Date }>>(`SELECT closed_at FROM settlement_days WHERE day = $1`, [date]);
  return row?.closed_at;
}

/** Every figure of a day, each aggregated in Postgres, one query after the other on the same snapshot. */
async function dayFigures(em: EntityManager, day: DayBounds, progress?: SettlementProgress): Promise<DayFigures> {
  const queries = new SettlementQueries(em);
  let done = 0;
  const step = async <T>(name: (typeof DAY_STEPS)[number], run: () => Promise<T>): Promise<T> => {
    progress?.(name, done, DAY_STEPS.length);
    const result = await run();
    progress?.(name, ++done, DAY_STEPS.length);
    return result;
  };
  const keys = await queries.allocationKeys(day);
  return {
    date: day.date,
    keys,
    sales: await step('sales', () => queries.sales(day, 'issued_at')),
    refunds: await step('refunds', () => queries.sales(day, 'refunded_at')),
    singles: await step('single tickets', () => queries.directSingles(day)),
    passParts: await step('pass day parts', () => queries.passParts(day)),
    passUse: await step('pass use', () => queries.passUse(day)),
    payAsYouGo: await step('pay as you go', () => queries.payAsYouGo(day)),
    bankCards: await step('bank cards', () => queries.bankCards(day)),
    cardRecoveries: await step('card recoveries', () => queries.cardRecoveries(day)),
    freeRides: await step('free rides', () => queries.freeRides(day)),
    maximumFareJourneys: await step('maximum fares', () => queries.maximumFareJourneys(day)),
    rejectedTaps: await step('rejected taps', () => queries.tapsByReason(day, 'rejected')),
    revenueAtRisk: await step('revenue at risk', () => queries.tapsByReason(day, 'accepted_invalid')),
    customerService: await customerServiceFigures(em, day.start, day.end, await closedAt(em, shiftDate(day.date, -1))),
  };
}
