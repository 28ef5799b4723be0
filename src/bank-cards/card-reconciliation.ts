import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthUser } from '../common/auth-user';
import { DomainError } from '../common/domain-error';
import { operatorScope } from '../common/operator-scope';
import { DAY_MS, localDateAt } from '../fares/domain/local-time';
import { ACQUIRER, type Acquirer, type SettlementLine } from './acquirer';
import type { CardReconciliationDto, ReconciliationMismatchDto } from './bank-cards.dto';

/** Why a line of the reconciliation does not agree with another (README "Bank cards", stable codes). */
export const RECONCILIATION_CODES = [
  'TAP_WITHOUT_JOURNEY',
  'JOURNEY_WITHOUT_TAP',
  'TAP_FARE_MISMATCH',
  'JOURNEY_NOT_CHARGED',
  'JOURNEY_AMOUNT_MISMATCH',
  'CHARGE_AMOUNT_MISMATCH',
  'CAPTURE_NOT_IN_FILE',
  'FILE_AMOUNT_MISMATCH',
  'FILE_REFERENCE_MISMATCH',
  'FILE_LINE_UNKNOWN',
] as const;
export type ReconciliationCode = (typeof RECONCILIATION_CODES)[number];

const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

interface JourneyRow {
  id: string;
  card_id: string;
  status: 'closed' | 'timed_out';
  charge: string;
  charge_id: string | null;
  charged_amount: string | null;
  tap_id: string | null;
  device_id: string | null;
  tap_charge: string | null;
}

interface LooseTapRow {
  device_id: string;
  tap_id: string;
  card_id: string;
  journey_id: string | null;
  charge: string;
}

interface ChargeRow {
  id: string;
  card_id: string;
  amount: string;
  status: string;
  first_declined_at: Date | null;
  journeys_amount: string;
}

interface CaptureRow {
  id: string;
  card_id: string;
  amount: string;
  acquirer_reference: string | null;
}

/**
 * The three-way reconciliation of a local day's bank-card money, read from the record and the
 * acquirer's settlement file:
 *   taps ↔ journeys   every accepted card exit tap of the day's journeys against its journey (a journey
 *                     that timed out has no exit tap: its maximum fare stands alone);
 *   journeys ↔ charges  every priced card journey entered that day in exactly one charge, at its fare;
 *                     every charge of the day the sum of its journeys;
 *   charges ↔ file    every charge we captured that day in the acquirer's file of the day (its reference,
 *                     its acquirer reference, its amount), and every line of the file a capture of ours.
 * Every disagreement is listed with a stable code. An operator's staff see their own lines' journeys and
 * taps, and the charges (and file lines) with a journey on their lines.
 */
@Injectable()
export class CardReconciliation {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ACQUIRER) private readonly acquirer: Acquirer,
  ) {}

  async day(user: AuthUser, date: string, requestedOperatorId: string | undefined): Promise<CardReconciliationDto> {
    const operatorId = operatorScope(user, requestedOperatorId) ?? null;
    const start = LOCAL_DATE.test(date) ? Date.parse(`${date}T00:00:00+07:00`) : NaN;
    // The years the scheme can have days in, as settlement's statements.
    if (Number.isNaN(start) || localDateAt(start) !== date || date < '2000-01-01' || date > '2999-12-31') {
      throw new DomainError('invalid', 'VALIDATION_FAILED', `${JSON.stringify(date)} is not a date`, [{ field: 'date', problem: 'must be a local date YYYY-MM-DD from 2000-01-01 to 2999-12-31' }]);
    }
    const bounds = [new Date(start), new Date(start + DAY_MS), date, operatorId] as const;
    const [journeys, looseTaps, charges, captures, file] = await Promise.all([
      this.journeys(bounds),
      this.looseTaps(bounds),
      this.charges(bounds),
      this.captures(bounds),
      this.acquirer.settlementFile(date),
    ]);
    const mismatches: ReconciliationMismatchDto[] = [];
    const add = (code: ReconciliationCode, fields: Omit<ReconciliationMismatchDto, 'code'>) => mismatches.push({ code, ...fields });

    let exitTaps = 0;
    let tapCharged = 0;
    let timedOut = 0;
    let timedOutCharged = 0;
    let fares = 0;
    let inCharges = 0;
    for (const journey of journeys) {
      const charge = Number(journey.charge);
      fares += charge;
      if (journey.status === 'timed_out') {
        timedOut++;
        timedOutCharged += charge;
      } else if (journey.tap_id === null) {
        add('JOURNEY_WITHOUT_TAP', { journeyId: journey.id, cardId: journey.card_id, expected: charge, detail: 'a journey closed by an exit the taps do not hold' });
      } else {
        exitTaps++;
        tapCharged += Number(journey.tap_charge);
        if (Number(journey.tap_charge) !== charge) {
          add('TAP_FARE_MISMATCH', { journeyId: journey.id, cardId: journey.card_id, deviceId: journey.device_id!, tapId: journey.tap_id, expected: charge, found: Number(journey.tap_charge) });
        }
      }
      if (journey.charge_id === null) {
        add('JOURNEY_NOT_CHARGED', { journeyId: journey.id, cardId: journey.card_id, expected: charge, detail: 'in no charge yet' });
        continue;
      }
      inCharges += Number(journey.charged_amount);
      if (Number(journey.charged_amount) !== charge) {
        add('JOURNEY_AMOUNT_MISMATCH', { journeyId: journey.id, chargeId: journey.charge_id, cardId: journey.card_id, expected: charge, found: Number(journey.charged_amount) });
      }
    }
    for (const tap of looseTaps) {
      add('TAP_WITHOUT_JOURNEY', { deviceId: tap.device_id, tapId: tap.tap_id, cardId: tap.card_id, found: Number(tap.charge), ...(tap.journey_id !== null && { journeyId: tap.journey_id }), detail: 'an accepted card exit whose journey the record does not hold closed' });
    }

    const chargeTotals = { count: charges.length, amount: 0, captured: 0, declined: 0, open: 0 };
    for (const charge of charges) {
      const amount = Number(charge.amount);
      chargeTotals.amount += amount;
      if (charge.status === 'captured') chargeTotals.captured += amount;
      else if (charge.status === 'declined') chargeTotals.declined += amount;
      else chargeTotals.open += amount;
      if (Number(charge.journeys_amount) !== amount) add('CHARGE_AMOUNT_MISMATCH', { chargeId: charge.id, cardId: charge.card_id, expected: Number(charge.journeys_amount), found: amount });
    }

    const ours = new Map(captures.map((capture) => [capture.id, capture]));
    const filed = new Map<string, SettlementLine>();
    let fileTotal = 0;
    let fileLines = 0;
    for (const line of file) {
      const capture = ours.get(line.reference);
      // An operator sees the lines of its own charges; a line naming nothing we captured that day is the scheme's (admins) to see.
      if (operatorId !== null && !capture) continue;
      fileLines++;
      fileTotal += line.amount;
      if (line.operation !== 'capture' || !capture || filed.has(line.reference)) {
        add('FILE_LINE_UNKNOWN', { chargeId: line.reference, acquirerReference: line.acquirerReference, found: line.amount, detail: `a ${line.operation} naming no charge captured that day (or one named twice)` });
        continue;
      }
      filed.set(line.reference, line);
      if (line.amount !== Number(capture.amount)) add('FILE_AMOUNT_MISMATCH', { chargeId: capture.id, cardId: capture.card_id, acquirerReference: line.acquirerReference, expected: Number(capture.amount), found: line.amount });
      if (line.acquirerReference !== capture.acquirer_reference) {
        add('FILE_REFERENCE_MISMATCH', { chargeId: capture.id, cardId: capture.card_id, acquirerReference: line.acquirerReference, detail: `we recorded ${capture.acquirer_reference ?? 'none'}` });
      }
    }
    let captured = 0;
    for (const capture of captures) {
      captured += Number(capture.amount);
      if (!filed.has(capture.id)) add('CAPTURE_NOT_IN_FILE', { chargeId: capture.id, cardId: capture.card_id, expected: Number(capture.amount), ...(capture.acquirer_reference !== null && { acquirerReference: capture.acquirer_reference }) });
    }

    return {
      date,
      currency: 'VND',
      operatorId,
      acquirer: this.acquirer.name,
      taps: { exits: exitTaps, charged: tapCharged, timedOutJourneys: timedOut, timedOutCharged },
      journeys: { count: journeys.length, fares, inCharges },
      charges: chargeTotals,
      settlement: { captures: captures.length, captured, fileLines, fileTotal },
      mismatches,
      balanced: mismatches.length === 0,
    };
  }

  /** Priced card journeys entered on the day, each with its charge and its accepted exit tap. */
  private journeys([start, end, , operatorId]: readonly [Date, Date, string, string | null]): Promise<JourneyRow[]> {
    return this.db.query<JourneyRow[]>(
      `SELECT j.id, j.card_id, j.status, j.charge, cj.charge_id, cj.amount AS charged_amount, x.tap_id, x.device_id, x.charge AS tap_charge
         FROM journeys j
         JOIN lines l ON l.id = j.line_id
         LEFT JOIN bank_card_charge_journeys cj ON cj.journey_id = j.id
         LEFT JOIN LATERAL (
           SELECT tp.tap_id, tp.device_id, tp.charge FROM taps tp
            WHERE tp.journey_id = j.id AND tp.direction = 'exit' AND tp.verdict = 'accept'
              AND tp.occurred_at >= j.entered_at AND tp.occurred_at < $2::timestamptz + interval '2 days'
            ORDER BY tp.occurred_at LIMIT 1) x ON true
        WHERE j.entered_at >= $1 AND j.entered_at < $2 AND j.card_id IS NOT NULL AND j.status <> 'open' AND j.charge > 0
          AND ($3::text IS NULL OR l.operator_id = $3)
        ORDER BY j.entered_at, j.id`,
      [start, end, operatorId],
    );
  }

  /** Accepted card exits of the day whose journey the record does not hold closed. */
  private looseTaps([start, end, , operatorId]: readonly [Date, Date, string, string | null]): Promise<LooseTapRow[]> {
    return this.db.query<LooseTapRow[]>(
      `SELECT tp.device_id, tp.tap_id, tp.card_id, tp.journey_id, tp.charge
         FROM taps tp JOIN lines l ON l.id = tp.line_id
        WHERE tp.occurred_at >= $1 AND tp.occurred_at < $2 AND tp.card_id IS NOT NULL AND tp.direction = 'exit' AND tp.verdict = 'accept'
          AND ($3::text IS NULL OR l.operator_id = $3)
          AND NOT EXISTS (SELECT 1 FROM journeys j WHERE j.id = tp.journey_id AND j.status <> 'open'
                           AND j.entered_at > $1::timestamptz - interval '2 days' AND j.entered_at < $2)
        ORDER BY tp.occurred_at, tp.device_id, tp.tap_id`,
      [start, end, operatorId],
    );
  }

  /** Charges of the day's journeys, with the sum of their journeys. */
  private charges([, , date, operatorId]: readonly [Date, Date, string, string | null]): Promise<ChargeRow[]> {
    return this.db.query<ChargeRow[]>(
      `SELECT c.id, c.card_id, c.amount, c.status, c.first_declined_at, coalesce(sum(cj.amount), 0) AS journeys_amount
         FROM bank_card_charges c LEFT JOIN bank_card_charge_journeys cj ON cj.charge_id = c.id
        WHERE c.local_day = $1::date AND (${ofOperator('$2')})
        GROUP BY c.id ORDER BY c.created_at, c.id`,
      [date, operatorId],
    );
  }

  /** Charges we captured on the day: what the acquirer's file of the day must hold. */
  private captures([start, end, , operatorId]: readonly [Date, Date, string, string | null]): Promise<CaptureRow[]> {
    return this.db.query<CaptureRow[]>(
      `SELECT c.id, c.card_id, c.amount, c.acquirer_reference FROM bank_card_charges c
        WHERE c.status = 'captured' AND c.captured_at >= $1 AND c.captured_at < $2 AND (${ofOperator('$3')})
        ORDER BY c.captured_at, c.id`,
      [start, end, operatorId],
    );
  }
}

/** A charge with a journey on the lines of the operator in parameter `param` (null: any). */
function ofOperator(param: string): string {
  return `${param}::text IS NULL OR EXISTS (SELECT 1 FROM bank_card_charge_journeys oj JOIN lines ol ON ol.id = oj.line_id WHERE oj.charge_id = c.id AND ol.operator_id = ${param})`;
}
