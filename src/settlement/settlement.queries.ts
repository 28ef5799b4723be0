import { TIDES_FARE_MEDIA, type TapMediumKind, type TidesFareMedium } from '../media/medium-kinds';
import type { EntityManager } from 'typeorm';
import { FREE_RIDER_CATEGORIES } from '../fares/rider-category';
import type { AllocationKey } from './domain/allocation';

/**
 * Every SQL statement settlement runs against other modules' tables, in one place. Each one
 * aggregates a local day in Postgres (the day's taps and journeys are never loaded into memory) and
 * returns a few rows per operator, line or product. Tables and columns read:
 * - network: lines (id, mode, operator_id), stations (id, line_id, position_m);
 * - tickets: tickets (id, product_id, kind, rider_category, price, modes, line_ids, origin_station_id,
 *   validity_days, valid_from, first_used_at, status, issued_at, refunded_at);
 * - validation: journeys (entered_at, subject_kind, ticket_id, card_id, rider_category, line_id, entry_station_id,
 *   exit_station_id, status, fare, charge, unpaid), taps (device_id, tap_id, occurred_at, direction,
 *   station_id, line_id, subject_kind, ticket_id, account_id, rider_category, verdict, reason, valid,
 *   offline, journey_id, fare, full_fare, charge, recorded_at).
 * - bank-cards: bank_card_charges (id, local_day, status, first_declined_at, captured_at),
 *   bank_card_charge_journeys (journey_id, charge_id, line_id, amount).
 * Parameters of every day query: $1 the day's first instant, $2 the next day's; pass queries $3 the local date.
 */

const ZONE = `'Asia/Ho_Chi_Minh'`;

/** The one operator a ticket is valid on, or null for a network product: singles by their origin's line, passes by coverage. */
const TICKET_SOLE_OPERATOR = `
  CASE WHEN t.kind = 'single'
    THEN (SELECT l.operator_id FROM stations s JOIN lines l ON l.id = s.line_id WHERE s.id = t.origin_station_id)
    ELSE (SELECT CASE WHEN count(DISTINCT l.operator_id) = 1 THEN min(l.operator_id) END FROM lines l
           WHERE l.mode = ANY (t.modes) AND (t.line_ids IS NULL OR l.id = ANY (t.line_ids)))
  END`;

/**
 * A journey's length in metres: entry to exit; without an exit (timed out, still open), entry to the
 * farther end of the line, the ride the maximum fare assumes.
 */
const JOURNEY_METRES = `
  abs(coalesce(x.position_m, CASE WHEN e.position_m - span.min_m > span.max_m - e.position_m THEN span.min_m ELSE span.max_m END) - e.position_m)`;

const DAY_JOURNEYS = `
  line_spans AS (SELECT line_id, min(position_m) AS min_m, max(position_m) AS max_m FROM stations GROUP BY line_id),
  day_journeys AS (
    SELECT j.*, l.operator_id, ${JOURNEY_METRES} AS metres
      FROM journeys j
      JOIN lines l ON l.id = j.line_id
      JOIN stations e ON e.id = j.entry_station_id
      JOIN line_spans span ON span.line_id = j.line_id
      LEFT JOIN stations x ON x.id = j.exit_station_id
     WHERE j.entered_at >= $1 AND j.entered_at < $2)`;

/**
 * The part of a pass's price on day `day_index` of its validity: the price spread evenly, the odd đồng
 * on the first days. The same as passDayPart() in domain/allocation.ts.
 */
const PASS_DAY_PART = `(p.price / p.validity_days + CASE WHEN p.day_index < p.price % p.validity_days THEN 1 ELSE 0 END)`;

/**
 * Passes valid on the day, with their day index and sole operator. A pass starts at valid_from, or
 * for first-use passes at the first use: tickets.first_used_at, else the first accepted entry tap.
 */
const DAY_PASSES = `
  candidates AS (
    SELECT t.*, ${TICKET_SOLE_OPERATOR} AS sole_operator
      FROM tickets t
     WHERE t.kind = 'pass' AND t.status <> 'refunded' AND t.issued_at < $2
       AND (t.valid_from IS NULL OR (t.valid_from < $2 AND t.valid_until > $1))
       AND (t.first_use_by IS NULL OR t.first_use_by > $1 - make_interval(days => t.validity_days))),
  passes AS (
    SELECT c.id::text AS ticket_id, c.product_id, c.price, c.validity_days, c.sole_operator,
           $3::date - (start.at AT TIME ZONE ${ZONE})::date AS day_index
      FROM candidates c
      CROSS JOIN LATERAL (SELECT coalesce(c.valid_from, c.first_used_at,
        (SELECT min(tp.occurred_at) FROM taps tp WHERE tp.ticket_id = c.id::text AND tp.verdict = 'accept' AND tp.direction = 'entry')) AS at) start
     WHERE start.at < $2),
  day_passes AS (SELECT * FROM passes p WHERE p.day_index >= 0 AND p.day_index < p.validity_days)`;

export interface SalesRow {
  productId: string;
  riderCategory: string;
  kind: 'single' | 'pass';
  /** The one operator the product is valid on; null for network products. */
  operatorId: string | null;
  count: number;
  amount: number;
}

export interface DirectSinglesRow {
  operatorId: string;
  count: number;
  amount: number;
}

export interface PassPartsRow {
  productId: string;
  operatorId: string | null;
  used: boolean;
  passes: number;
  amount: number;
}

export interface PassUseRow {
  productId: string;
  operatorId: string;
  trips: number;
  passengerMetres: number;
}

export interface LineFiguresRow {
  operatorId: string;
  lineId: string;
}

export interface PayAsYouGoRow extends LineFiguresRow {
  journeys: number;
  charged: number;
  unpaid: number;
}

/**
 * Bank-card journeys of the day (a card's own, and an account's paid by its linked card): their fares, the
 * part collected by the card's charge at the first ask, the part whose charge was declined (revenue at
 * risk, even once recovered: a recovery is an adjustment of the day it comes), and the part not charged yet.
 */
export interface BankCardRow extends LineFiguresRow {
  journeys: number;
  fares: number;
  collected: number;
  declined: number;
  notCharged: number;
  declinedJourneys: number;
  notChargedJourneys: number;
}

/** Declined card charges paid on the day (by a retry or the rider): the fares recovered, by the day they belong to and operator. */
export interface CardRecoveryRow {
  belongsTo: string;
  operatorId: string;
  charges: number;
  amount: number;
}

export interface FreeRidesRow extends LineFiguresRow {
  /** What the rides were taken with: qr, app, transit_card, id_card (an account's or, for riders of 60+, none). */
  mediumKind: string;
  rides: number;
  passengerMetres: number;
}

export interface MaximumFareRow extends LineFiguresRow {
  subjectKind: string;
  journeys: number;
  charged: number;
}

export interface TapReasonRow extends LineFiguresRow {
  reason: string;
  taps: number;
  /** Offline taps accepted but invalid: the full fares known for them (exits only). */
  fareAtRisk: number;
}

export interface AllocationKeyRow {
  productId: string;
  key: AllocationKey;
  shares: Record<string, number> | null;
  effectiveFrom: string;
  note: string;
}

/**
 * A fare transaction as TIDES v1.0 `fare_transactions` names its fields, every column in the
 * schema's order (TIDES-transit/TIDES, spec/fare_transactions.schema.json, vendored in
 * test/fixtures/tides). Columns we have nothing for (no AVL, no GTFS trips, no fare_attributes)
 * are null, so readers that match columns by position find each in its place.
 */
export interface TidesFareTransaction {
  transaction_id: string;
  service_date: string;
  /** UTC, whole seconds (strict Table Schema datetime: no fraction). */
  event_timestamp: string;
  location_ping_id: null;
  /** đồng: purchases and top-ups positive, refunds negative, entries and activations 0, exits the fare charged (pay as you go). */
  amount: number;
  currency_type: 'VND';
  fare_action: 'Purchase' | 'Add' | 'Activate' | 'Adjust' | 'Enter' | 'Exit';
  trip_id_performed: null;
  trip_id_scheduled: null;
  pattern_id: null;
  trip_stop_sequence: null;
  scheduled_stop_sequence: null;
  vehicle_id: null;
  device_id: string | null;
  fare_id: null;
  stop_id: string | null;
  num_riders: 1;
  /** The medium, in TIDES' words (media/medium-kinds.ts TIDES_FARE_MEDIA): QR codes "Optical scan", chip cards "Smart card or ticket"; null for purchases and top-ups in the app. */
  fare_media_id: TidesFareMedium | null;
  rider_category: string | null;
  fare_product: string | null;
  fare_period: null;
  fare_capped: boolean;
  /** The instrument: the ticket, or for pay as you go and top-ups the account. */
  token_id: string | null;
  /** Pay as you go and top-ups: the wallet balance (đồng) after the transaction; null otherwise. */
  balance: number | null;
}

export const TIDES_FARE_TRANSACTION_FIELDS: ReadonlyArray<keyof TidesFareTransaction> = [
  'transaction_id',
  'service_date',
  'event_timestamp',
  'location_ping_id',
  'amount',
  'currency_type',
  'fare_action',
  'trip_id_performed',
  'trip_id_scheduled',
  'pattern_id',
  'trip_stop_sequence',
  'scheduled_stop_sequence',
  'vehicle_id',
  'device_id',
  'fare_id',
  'stop_id',
  'num_riders',
  'fare_media_id',
  'rider_category',
  'fare_product',
  'fare_period',
  'fare_capped',
  'token_id',
  'balance',
];

/** The day a query is about: its bounds as instants and its local date. */
export interface DayBounds {
  date: string;
  start: Date;
  end: Date;
}

const int = (value: string | number | null): number => Number(value ?? 0);

/** Reads a day's figures from Postgres, always aggregated there. */
export class SettlementQueries {
  constructor(private readonly em: EntityManager) {}

  private day<T>(sql: string, day: DayBounds, extra: unknown[] = []): Promise<T[]> {
    return this.em.query<T[]>(sql, [day.start, day.end, ...extra]);
  }

  async sales(day: DayBounds, at: 'issued_at' | 'refunded_at'): Promise<SalesRow[]> {
    const rows = await this.day<Record<string, string>>(
      `SELECT t.product_id, t.rider_category, t.kind, ${TICKET_SOLE_OPERATOR} AS operator_id, count(*) AS count, sum(t.price) AS amount
         FROM tickets t WHERE t.${at} >= $1 AND t.${at} < $2
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 4`,
      day,
    );
    return rows.map((row) => ({
      productId: row.product_id,
      riderCategory: row.rider_category,
      kind: row.kind as SalesRow['kind'],
      operatorId: row.operator_id,
      count: int(row.count),
      amount: int(row.amount),
    }));
  }

  /** Single tickets sold on the day and not refunded since: revenue of the operator of their line. */
  async directSingles(day: DayBounds): Promise<DirectSinglesRow[]> {
    const rows = await this.day<Record<string, string>>(
      `SELECT ${TICKET_SOLE_OPERATOR} AS operator_id, count(*) AS count, sum(t.price) AS amount
         FROM tickets t WHERE t.kind = 'single' AND t.status <> 'refunded' AND t.issued_at >= $1 AND t.issued_at < $2
        GROUP BY 1 ORDER BY 1`,
      day,
    );
    return rows.map((row) => ({ operatorId: row.operator_id, count: int(row.count), amount: int(row.amount) }));
  }

  /** The day parts of the passes valid on the day, by product, sole operator and whether the pass was used that day. */
  async passParts(day: DayBounds): Promise<PassPartsRow[]> {
    const rows = await this.day<Record<string, string>>(
      `WITH ${DAY_PASSES},
       used AS (SELECT DISTINCT ticket_id FROM journeys WHERE entered_at >= $1 AND entered_at < $2 AND subject_kind = 'pass')
       SELECT p.product_id, p.sole_operator AS operator_id, u.ticket_id IS NOT NULL AS used, count(*) AS passes, sum(${PASS_DAY_PART}) AS amount
         FROM day_passes p LEFT JOIN used u ON u.ticket_id = p.ticket_id
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      day,
      [day.date],
    );
    return rows.map((row) => ({
      productId: row.product_id,
      operatorId: row.operator_id,
      used: row.used as unknown as boolean,
      passes: int(row.passes),
      amount: int(row.amount),
    }));
  }

  /** The day's use of network passes (valid on more than one operator), by product and operator. */
  async passUse(day: DayBounds): Promise<PassUseRow[]> {
    const rows = await this.day<Record<string, string>>(
      `WITH ${DAY_PASSES}, ${DAY_JOURNEYS}
       SELECT p.product_id, j.operator_id, count(*) AS trips, sum(j.metres) AS metres
         FROM day_journeys j JOIN day_passes p ON p.ticket_id = j.ticket_id
        WHERE j.subject_kind = 'pass' AND p.sole_operator IS NULL
        GROUP BY 1, 2 ORDER BY 1, 2`,
      day,
      [day.date],
    );
    return rows.map((row) => ({ productId: row.product_id, operatorId: row.operator_id, trips: int(row.trips), passengerMetres: int(row.metres) }));
  }

  /** Pay-as-you-go journeys of the day (by entry) that have closed: the fare the wallet was charged, and what it could not cover (a linked bank card's are the card's). */
  async payAsYouGo(day: DayBounds): Promise<PayAsYouGoRow[]> {
    const rows = await this.day<Record<string, string>>(
      `WITH ${DAY_JOURNEYS}
       SELECT operator_id, line_id, count(*) AS journeys, sum(charge) AS charged, sum(unpaid) AS unpaid
         FROM day_journeys WHERE subject_kind = 'payg' AND card_id IS NULL AND status <> 'open'
        GROUP BY 1, 2 ORDER BY 1, 2`,
      day,
    );
    return rows.map((row) => ({ operatorId: row.operator_id, lineId: row.line_id, journeys: int(row.journeys), charged: int(row.charged), unpaid: int(row.unpaid) }));
  }

  /** The day's bank-card journeys (by entry) that closed with a fare, by line: collected, declined, not charged yet. */
  async bankCards(day: DayBounds): Promise<BankCardRow[]> {
    const rows = await this.day<Record<string, string>>(
      `SELECT l.operator_id, j.line_id, count(*) AS journeys, sum(j.charge) AS fares,
              coalesce(sum(j.charge) FILTER (WHERE c.status = 'captured' AND c.first_declined_at IS NULL), 0) AS collected,
              coalesce(sum(j.charge) FILTER (WHERE c.first_declined_at IS NOT NULL), 0) AS declined,
              count(*) FILTER (WHERE c.first_declined_at IS NOT NULL) AS declined_journeys,
              count(*) FILTER (WHERE c.id IS NULL OR (c.status <> 'captured' AND c.first_declined_at IS NULL)) AS not_charged_journeys
         FROM journeys j JOIN lines l ON l.id = j.line_id
         LEFT JOIN bank_card_charge_journeys cj ON cj.journey_id = j.id
         LEFT JOIN bank_card_charges c ON c.id = cj.charge_id
        WHERE j.entered_at >= $1 AND j.entered_at < $2 AND j.card_id IS NOT NULL AND j.status <> 'open' AND j.charge > 0
        GROUP BY 1, 2 ORDER BY 1, 2`,
      day,
    );
    return rows.map((row) => {
      const [fares, collected, declined] = [int(row.fares), int(row.collected), int(row.declined)];
      return {
        operatorId: row.operator_id,
        lineId: row.line_id,
        journeys: int(row.journeys),
        fares,
        collected,
        declined,
        notCharged: fares - collected - declined,
        declinedJourneys: int(row.declined_journeys),
        notChargedJourneys: int(row.not_charged_journeys),
      };
    });
  }

  /** Declined card charges captured on the day: recovered fares, by the day they belong to and operator. */
  async cardRecoveries(day: DayBounds): Promise<CardRecoveryRow[]> {
    const rows = await this.day<Record<string, string>>(
      `SELECT to_char(c.local_day, 'YYYY-MM-DD') AS belongs_to, l.operator_id, count(DISTINCT c.id) AS charges, sum(cj.amount) AS amount
         FROM bank_card_charges c
         JOIN bank_card_charge_journeys cj ON cj.charge_id = c.id
         JOIN lines l ON l.id = cj.line_id
        WHERE c.status = 'captured' AND c.first_declined_at IS NOT NULL AND c.captured_at >= $1 AND c.captured_at < $2
        GROUP BY 1, 2 ORDER BY 1, 2`,
      day,
    );
    return rows.map((row) => ({ belongsTo: row.belongs_to, operatorId: row.operator_id, charges: int(row.charges), amount: int(row.amount) }));
  }

  /** Journeys of riders who travel free, for the city's subsidy. */
  async freeRides(day: DayBounds): Promise<FreeRidesRow[]> {
    const rows = await this.day<Record<string, string>>(
      `WITH ${DAY_JOURNEYS}
       SELECT operator_id, line_id, medium_kind, count(*) AS rides, sum(metres) AS metres
         FROM day_journeys WHERE rider_category = ANY ($3::text[])
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      day,
      [FREE_RIDER_CATEGORIES],
    );
    return rows.map((row) => ({ operatorId: row.operator_id, lineId: row.line_id, mediumKind: row.medium_kind, rides: int(row.rides), passengerMetres: int(row.metres) }));
  }

  /** Journeys closed at the line's maximum fare because no exit came (timed out). */
  async maximumFareJourneys(day: DayBounds): Promise<MaximumFareRow[]> {
    const rows = await this.day<Record<string, string>>(
      `SELECT l.operator_id, j.line_id, j.subject_kind, count(*) AS journeys, sum(j.charge) AS charged
         FROM journeys j JOIN lines l ON l.id = j.line_id
        WHERE j.entered_at >= $1 AND j.entered_at < $2 AND j.status = 'timed_out'
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      day,
    );
    return rows.map((row) => ({ operatorId: row.operator_id, lineId: row.line_id, subjectKind: row.subject_kind, journeys: int(row.journeys), charged: int(row.charged) }));
  }

  /** Rejected taps, or offline taps a gate accepted that the record finds invalid (revenue at risk). */
  async tapsByReason(day: DayBounds, which: 'rejected' | 'accepted_invalid'): Promise<TapReasonRow[]> {
    const filter = which === 'rejected' ? `tp.verdict = 'reject'` : `tp.verdict = 'accept' AND NOT tp.valid AND tp.offline`;
    const rows = await this.day<Record<string, string>>(
      `SELECT l.operator_id, tp.line_id, tp.reason, count(*) AS taps, sum(coalesce(tp.full_fare, 0)) AS fare_at_risk
         FROM taps tp JOIN lines l ON l.id = tp.line_id
        WHERE tp.occurred_at >= $1 AND tp.occurred_at < $2 AND ${filter}
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      day,
    );
    return rows.map((row) => ({ operatorId: row.operator_id, lineId: row.line_id, reason: row.reason, taps: int(row.taps), fareAtRisk: int(row.fare_at_risk) }));
  }

  /** Each product's allocation key in force at the start of the day. */
  async allocationKeys(day: DayBounds): Promise<AllocationKeyRow[]> {
    const rows = await this.em.query<Array<{ product_id: string; key: AllocationKey; shares: Record<string, number> | null; effective_from: Date; note: string }>>(
      `SELECT DISTINCT ON (product_id) product_id, key, shares, effective_from, note
         FROM product_allocation_keys WHERE effective_from <= $1 ORDER BY product_id, effective_from DESC`,
      [day.start],
    );
    return rows.map((row) => ({ productId: row.product_id, key: row.key, shares: row.shares, effectiveFrom: row.effective_from.toISOString(), note: row.note }));
  }

  /**
   * The day's fare transactions in TIDES shape, for a server-side cursor (they can be millions):
   * purchases and refunds of tickets, wallet top-ups (`Add`), accepted taps (entries, and exits with
   * the fare charged) and a pass's first accepted entry ever (`Activate`, beside its `Enter`).
   * Pay-as-you-go taps and top-ups carry the wallet balance after them: the wallet's ledger entries up
   * to the journey's fare entry (an exit), the top-up's entry, or the tap's instant (an entry).
   * Parameters: $1, $2 the day's bounds, $3 an operator id or null for all.
   */
  static readonly FARE_TRANSACTIONS = `
    WITH accepted AS (
      SELECT tp.*, l.operator_id, tk.product_id AS ticket_product, tk.kind AS ticket_kind
        FROM taps tp JOIN lines l ON l.id = tp.line_id LEFT JOIN tickets tk ON tk.id::text = tp.ticket_id
       WHERE tp.occurred_at >= $1 AND tp.occurred_at < $2 AND tp.verdict = 'accept'),
    events AS (
      SELECT 'purchase:' || t.id AS transaction_id, t.issued_at AS at, t.price AS amount, 'Purchase' AS fare_action, NULL AS device_id,
             NULL AS stop_id, t.rider_category, t.product_id AS fare_product, false AS fare_capped, t.id::text AS token_id,
             ${TICKET_SOLE_OPERATOR} AS operator_id, NULL::bigint AS balance, NULL AS medium_kind
        FROM tickets t WHERE t.issued_at >= $1 AND t.issued_at < $2
      UNION ALL
      SELECT 'refund:' || t.id, t.refunded_at, -t.price, 'Adjust', NULL, NULL, t.rider_category, t.product_id, false, t.id::text,
             ${TICKET_SOLE_OPERATOR}, NULL, NULL
        FROM tickets t WHERE t.refunded_at >= $1 AND t.refunded_at < $2
      UNION ALL
      SELECT 'top-up:' || lt.id, lt.created_at, e.amount, 'Add', NULL, NULL, NULL, 'stored-value', false, a.owner_account_id::text, NULL,
             (SELECT sum(w.amount) FROM ledger_entries w WHERE w.ledger_account_id = e.ledger_account_id AND w.id <= e.id), NULL
        FROM ledger_transactions lt JOIN ledger_entries e ON e.transaction_id = lt.id
        JOIN ledger_accounts a ON a.id = e.ledger_account_id AND a.kind = 'wallet'
       WHERE lt.kind = 'top_up' AND lt.created_at >= $1 AND lt.created_at < $2
      UNION ALL
      SELECT 'activate:' || tp.device_id || ':' || tp.tap_id, tp.occurred_at, 0, 'Activate', tp.device_id, tp.station_id, tp.rider_category,
             tp.ticket_product, false, tp.ticket_id, tp.operator_id, NULL, tp.medium_kind
        FROM accepted tp
       WHERE tp.ticket_kind = 'pass' AND tp.direction = 'entry'
         AND NOT EXISTS (SELECT 1 FROM taps earlier WHERE earlier.ticket_id = tp.ticket_id AND earlier.verdict = 'accept'
                            AND earlier.direction = 'entry' AND earlier.occurred_at < tp.occurred_at)
      UNION ALL
      SELECT 'tap:' || tp.device_id || ':' || tp.tap_id, tp.occurred_at, tp.charge, CASE tp.direction WHEN 'entry' THEN 'Enter' ELSE 'Exit' END,
             tp.device_id, tp.station_id, tp.rider_category, coalesce(tp.ticket_product, 'pay-as-you-go'),
             tp.subject_kind = 'payg' AND tp.direction = 'exit' AND tp.charge < coalesce(tp.fare, 0), coalesce(tp.ticket_id, tp.account_id, tp.medium_ref), tp.operator_id,
             CASE WHEN tp.subject_kind = 'payg' THEN (
               SELECT coalesce(sum(w.amount), 0) FROM ledger_entries w
                WHERE w.ledger_account_id = 'wallet:' || tp.account_id
                  AND w.id <= coalesce(
                        (SELECT max(f.id) FROM ledger_transactions ft JOIN ledger_entries f ON f.transaction_id = ft.id
                          WHERE tp.direction = 'exit' AND ft.kind = 'fare' AND ft.reference = tp.journey_id::text AND f.ledger_account_id = 'wallet:' || tp.account_id),
                        (SELECT max(b.id) FROM ledger_entries b WHERE b.ledger_account_id = 'wallet:' || tp.account_id AND b.created_at <= tp.occurred_at),
                        0)) END, tp.medium_kind
        FROM accepted tp)
    SELECT * FROM events WHERE $3::text IS NULL OR operator_id = $3 ORDER BY at, transaction_id`;
}

/** An instant as a strict Table Schema datetime: UTC, whole seconds. */
export function tidesTimestamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A row of SettlementQueries.FARE_TRANSACTIONS as TIDES names it. */
export function toFareTransaction(date: string, row: Record<string, string | boolean | Date | null>): TidesFareTransaction {
  const deviceId = row.device_id as string | null;
  return {
    transaction_id: row.transaction_id as string,
    service_date: date,
    event_timestamp: tidesTimestamp(row.at as Date),
    location_ping_id: null,
    amount: int(row.amount as string),
    currency_type: 'VND',
    fare_action: row.fare_action as TidesFareTransaction['fare_action'],
    trip_id_performed: null,
    trip_id_scheduled: null,
    pattern_id: null,
    trip_stop_sequence: null,
    scheduled_stop_sequence: null,
    vehicle_id: null,
    device_id: deviceId,
    fare_id: null,
    stop_id: row.stop_id as string | null,
    num_riders: 1,
    fare_media_id: deviceId === null ? null : TIDES_FARE_MEDIA[(row.medium_kind as TapMediumKind | null) ?? 'qr'],
    rider_category: row.rider_category as string | null,
    fare_product: row.fare_product as string | null,
    fare_period: null,
    fare_capped: row.fare_capped as boolean,
    token_id: row.token_id as string | null,
    balance: row.balance === null || row.balance === undefined ? null : int(row.balance as string),
  };
}
