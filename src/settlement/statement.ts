import { allocateDay, type AllocationKey, type DirectRevenue, type PassPool } from './domain/allocation';
import { customerServiceFor, NO_CUSTOMER_SERVICE, type CustomerServiceFigures } from './customer-service';
import type { AllocationKeyRow, BankCardRow, CardRecoveryRow, FreeRidesRow, MaximumFareRow, PassPartsRow, PassUseRow, PayAsYouGoRow, SalesRow, TapReasonRow } from './settlement.queries';

export const SETTLEMENT_TIME_ZONE = 'Asia/Ho_Chi_Minh';

/** A product's key as the statement shows it: from the table, or the default when the table has none. */
export interface StatementKey {
  key: AllocationKey;
  shares: Record<string, number> | null;
  source: 'table' | 'default';
  effectiveFrom: string | null;
  note: string;
}

export interface OperatorLine {
  operatorId: string;
  singleTickets: number;
  /** Passes valid on this operator only, their day parts. */
  passes: number;
  payAsYouGo: number;
  /** Bank-card fares of the day collected by the card's charge (absent on statements closed before cards were settled). */
  bankCards?: number;
  passAllocation: number;
  /** Late events of closed days landing here, and card debts recovered on the day. */
  adjustments: number;
  total: number;
}

export interface PassAllocationLine {
  productId: string;
  allocationKey: StatementKey;
  /** The key applied: passenger-km falls back to trips on a day every journey measured 0 km. */
  appliedKey: AllocationKey;
  passesUsed: number;
  amount: number;
  operators: Array<{ operatorId: string; trips: number; passengerKm: number; weight: number; amount: number }>;
  unallocated: number;
}

/** Why an adjustment: absent, late events of a closed day; `recovered_card_debt`, declined card fares paid on this day. */
export const RECOVERED_CARD_DEBT = 'recovered_card_debt';

export interface AdjustmentLine {
  /** The closed day the late events belong to; a recovered card debt: the day of its journeys. */
  belongsTo: string;
  /** null: a change of that day's unallocated revenue. */
  operatorId: string | null;
  amount: number;
  reason?: typeof RECOVERED_CARD_DEBT;
}

/** Card fares not collected: declined charges, and journeys whose charge has not been asked or answered yet. */
export const CARD_DECLINED = 'CARD_DECLINED';
export const CARD_NOT_CHARGED = 'CARD_NOT_CHARGED';

export interface DailyStatement {
  date: string;
  timeZone: typeof SETTLEMENT_TIME_ZONE;
  currency: 'VND';
  /** null: the scheme-wide statement; else the operator it is cut for. */
  operatorId: string | null;
  status: 'open' | 'closed';
  closedAt: string | null;
  /** SHA-256 of the closed scheme-wide statement's canonical JSON (without this field). */
  sha256: string | null;
  /** Every product's allocation key in force that day: how network passes are split. */
  allocationKeys: AllocationKeyRow[];
  /** Tickets sold that day (whatever happened to them since), by product and rider category. */
  sales: SalesRow[];
  /** Tickets refunded that day; their price left the revenue of the day they were sold. */
  refunds: SalesRow[];
  payAsYouGo: Array<PayAsYouGoRow & { collected: number }>;
  /** Bank-card journeys of the day by line: fares, collected, declined and not charged yet (absent on statements closed before). */
  bankCards?: BankCardRow[];
  /** The day's revenue to settle: singles sold (not refunded), pass day parts, pay-as-you-go and bank-card fares collected. */
  revenue: { singleTickets: number; passDayParts: number; payAsYouGo: number; bankCards?: number; total: number };
  operators: OperatorLine[];
  directPasses: Array<{ productId: string; operatorId: string; passes: number; amount: number }>;
  passAllocation: PassAllocationLine[];
  unallocated: { unusedPasses: Array<{ productId: string; passes: number; amount: number }>; poolRemainders: number; total: number };
  freeRides: Array<{ operatorId: string; lineId: string; mediumKind: string; rides: number; passengerKm: number }>;
  rejectedTaps: Array<{ operatorId: string; lineId: string; reason: string; taps: number }>;
  /** Offline taps accepted but invalid; bank-card fares declined (CARD_DECLINED) or not charged yet (CARD_NOT_CHARGED), `taps` counting journeys. */
  revenueAtRisk: TapReasonRow[];
  maximumFareJourneys: MaximumFareRow[];
  adjustments: AdjustmentLine[];
  check: { revenue: number; adjustments: number; allocated: number; unallocated: number; balanced: boolean };
  /** Support adjustments, maximum-fare corrections and penalty revenue of the day, outside the check (see customer-service.ts). */
  customerService?: CustomerServiceFigures;
}

export interface DayFigures {
  date: string;
  sales: SalesRow[];
  refunds: SalesRow[];
  singles: Array<{ operatorId: string; amount: number }>;
  passParts: PassPartsRow[];
  passUse: PassUseRow[];
  payAsYouGo: PayAsYouGoRow[];
  bankCards: BankCardRow[];
  cardRecoveries: CardRecoveryRow[];
  freeRides: FreeRidesRow[];
  maximumFareJourneys: MaximumFareRow[];
  rejectedTaps: TapReasonRow[];
  revenueAtRisk: TapReasonRow[];
  keys: AllocationKeyRow[];
  customerService?: CustomerServiceFigures;
}

const DEFAULT_KEY: StatementKey = { key: 'trips', shares: null, source: 'default', effectiveFrom: null, note: 'No key in force for this product: split by trips' };
const km = (metres: number) => Math.round(metres) / 1000;

/** Builds the scheme-wide statement of an open day from its figures and the adjustments landing on it. */
export function buildStatement(figures: DayFigures, lateEvents: readonly AdjustmentLine[]): DailyStatement {
  const keyOf = new Map<string, StatementKey>(
    figures.keys.map((row) => [row.productId, { key: row.key, shares: row.shares, source: 'table', effectiveFrom: row.effectiveFrom, note: row.note }]),
  );
  const direct = new Map<string, DirectRevenue>();
  const directRow = (operatorId: string) => {
    let row = direct.get(operatorId);
    if (!row) direct.set(operatorId, (row = { operatorId, singleTickets: 0, passes: 0, payAsYouGo: 0 }));
    return row;
  };
  for (const row of figures.singles) directRow(row.operatorId).singleTickets += row.amount;
  const payAsYouGo = figures.payAsYouGo.map((row) => ({ ...row, collected: row.charged - row.unpaid }));
  for (const row of payAsYouGo) directRow(row.operatorId).payAsYouGo += row.collected;

  const directPasses: DailyStatement['directPasses'] = [];
  const pools = new Map<string, PassPool & { passesUsed: number }>();
  const unusedPasses: DailyStatement['unallocated']['unusedPasses'] = [];
  for (const row of figures.passParts) {
    if (row.operatorId !== null) {
      directRow(row.operatorId).passes += row.amount;
      const known = directPasses.find((line) => line.productId === row.productId && line.operatorId === row.operatorId);
      if (known) {
        known.passes += row.passes;
        known.amount += row.amount;
      } else directPasses.push({ productId: row.productId, operatorId: row.operatorId, passes: row.passes, amount: row.amount });
    } else if (row.used) {
      const key = keyOf.get(row.productId) ?? DEFAULT_KEY;
      pools.set(row.productId, { productId: row.productId, rule: { key: key.key, shares: key.shares }, amount: row.amount, uses: [], passesUsed: row.passes });
    } else unusedPasses.push({ productId: row.productId, passes: row.passes, amount: row.amount });
  }
  for (const use of figures.passUse) {
    const pool = pools.get(use.productId);
    if (!pool) throw new Error(`pass use of ${use.productId} without a pool: the pass queries disagree`);
    pools.set(use.productId, { ...pool, uses: [...pool.uses, use] });
  }
  const unusedTotal = unusedPasses.reduce((sum, row) => sum + row.amount, 0);
  const day = allocateDay([...direct.values()], [...pools.values()], unusedTotal);

  const operators = new Map<string, OperatorLine>(day.operators.map((row) => [row.operatorId, { ...row, bankCards: 0, adjustments: 0 }]));
  const operatorRow = (operatorId: string) => {
    let row = operators.get(operatorId);
    if (!row) operators.set(operatorId, (row = { operatorId, singleTickets: 0, passes: 0, payAsYouGo: 0, bankCards: 0, passAllocation: 0, adjustments: 0, total: 0 }));
    return row;
  };
  // Card fares are the operator's whose line carried the journey: attributed directly.
  for (const row of figures.bankCards) {
    const line = operatorRow(row.operatorId);
    line.bankCards = (line.bankCards ?? 0) + row.collected;
    line.total += row.collected;
  }
  const recovered: AdjustmentLine[] = figures.cardRecoveries.map((row) => ({ belongsTo: row.belongsTo, operatorId: row.operatorId, amount: row.amount, reason: RECOVERED_CARD_DEBT }));
  const allAdjustments = [...lateEvents, ...recovered];
  let unallocatedAdjustments = 0;
  for (const adjustment of allAdjustments) {
    if (adjustment.operatorId === null) {
      unallocatedAdjustments += adjustment.amount;
      continue;
    }
    const row = operatorRow(adjustment.operatorId);
    row.adjustments += adjustment.amount;
    row.total += adjustment.amount;
  }
  const adjustmentTotal = allAdjustments.reduce((sum, row) => sum + row.amount, 0);
  const allocated = [...operators.values()].reduce((sum, row) => sum + row.total, 0);
  const unallocated = day.unallocated.total + unallocatedAdjustments;
  const singleTickets = figures.singles.reduce((sum, row) => sum + row.amount, 0);
  const payAsYouGoTotal = payAsYouGo.reduce((sum, row) => sum + row.collected, 0);
  const passDayParts = figures.passParts.reduce((sum, row) => sum + row.amount, 0);
  const bankCards = figures.bankCards.reduce((sum, row) => sum + row.collected, 0);
  const revenue = singleTickets + passDayParts + payAsYouGoTotal + bankCards;
  const cardsAtRisk: TapReasonRow[] = figures.bankCards.flatMap((row) => [
    ...(row.declined > 0 ? [{ operatorId: row.operatorId, lineId: row.lineId, reason: CARD_DECLINED, taps: row.declinedJourneys, fareAtRisk: row.declined }] : []),
    ...(row.notCharged > 0 ? [{ operatorId: row.operatorId, lineId: row.lineId, reason: CARD_NOT_CHARGED, taps: row.notChargedJourneys, fareAtRisk: row.notCharged }] : []),
  ]);
  return {
    date: figures.date,
    timeZone: SETTLEMENT_TIME_ZONE,
    currency: 'VND',
    operatorId: null,
    status: 'open',
    closedAt: null,
    sha256: null,
    allocationKeys: figures.keys,
    sales: figures.sales,
    refunds: figures.refunds,
    payAsYouGo,
    bankCards: figures.bankCards,
    revenue: { singleTickets, passDayParts, payAsYouGo: payAsYouGoTotal, bankCards, total: revenue },
    operators: [...operators.values()].sort((a, b) => a.operatorId.localeCompare(b.operatorId)),
    directPasses,
    passAllocation: day.pools.map((pool) => ({
      productId: pool.productId,
      allocationKey: keyOf.get(pool.productId) ?? DEFAULT_KEY,
      appliedKey: pool.appliedKey,
      passesUsed: pools.get(pool.productId)!.passesUsed,
      amount: pool.amount,
      operators: pool.operators.map(({ operatorId, trips, passengerMetres, weight, amount }) => ({ operatorId, trips, passengerKm: km(passengerMetres), weight, amount })),
      unallocated: pool.unallocated,
    })),
    unallocated: { unusedPasses, poolRemainders: day.unallocated.pools, total: unallocated },
    freeRides: figures.freeRides.map(({ operatorId, lineId, mediumKind, rides, passengerMetres }) => ({ operatorId, lineId, mediumKind, rides, passengerKm: km(passengerMetres) })),
    rejectedTaps: figures.rejectedTaps.map(({ operatorId, lineId, reason, taps }) => ({ operatorId, lineId, reason, taps })),
    revenueAtRisk: [...figures.revenueAtRisk, ...cardsAtRisk],
    maximumFareJourneys: figures.maximumFareJourneys,
    adjustments: allAdjustments,
    check: { revenue, adjustments: adjustmentTotal, allocated, unallocated, balanced: revenue + adjustmentTotal === allocated + unallocated },
    customerService: figures.customerService ?? NO_CUSTOMER_SERVICE,
  };
}

/** Adjustments for late events of closed days (not card debts recovered on the day, which are the day's own). */
export function lateEventAdjustments(statement: Pick<DailyStatement, 'adjustments'>): AdjustmentLine[] {
  return statement.adjustments.filter((row) => row.reason === undefined);
}

/** What each operator, and the unallocated rest, came to on a statement before the late events of other days landing on it. */
export function settledAmounts(statement: DailyStatement): Map<string | null, number> {
  const amounts = new Map<string | null, number>();
  const late = lateEventAdjustments(statement);
  const lateOf = (operatorId: string | null) => late.filter((row) => row.operatorId === operatorId).reduce((sum, row) => sum + row.amount, 0);
  for (const row of statement.operators) amounts.set(row.operatorId, row.total - lateOf(row.operatorId));
  const unallocatedAdjustments = lateOf(null);
  amounts.set(null, statement.unallocated.total - unallocatedAdjustments);
  return amounts;
}

/**
 * The adjustments a late-changed closed day owes: what it comes to now, less what was frozen and
 * what earlier adjustments already moved. Operators first (by id), then the unallocated line.
 */
export function adjustmentsFor(belongsTo: string, now: Map<string | null, number>, frozen: Map<string | null, number>, alreadyAdjusted: readonly AdjustmentLine[]): AdjustmentLine[] {
  const keys = [...new Set([...now.keys(), ...frozen.keys(), ...alreadyAdjusted.map((row) => row.operatorId)])];
  const lines = keys.map((operatorId) => ({
    belongsTo,
    operatorId,
    amount:
      (now.get(operatorId) ?? 0) -
      (frozen.get(operatorId) ?? 0) -
      alreadyAdjusted.filter((row) => row.operatorId === operatorId).reduce((sum, row) => sum + row.amount, 0),
  }));
  return lines
    .filter((line) => line.amount !== 0)
    .sort((a, b) => (a.operatorId === null ? 1 : b.operatorId === null ? -1 : a.operatorId.localeCompare(b.operatorId)));
}

/**
 * The statement as one operator's staff see it: their own lines only. The totals of the check stay
 * scheme-wide: it is the proof that the day balances, which no single operator's lines can show.
 */
export function forOperator(statement: DailyStatement, operatorId: string): DailyStatement {
  const own = <T extends { operatorId: string | null }>(rows: readonly T[]) => rows.filter((row) => row.operatorId === operatorId);
  const operators = own(statement.operators);
  return {
    ...statement,
    operatorId,
    sales: statement.sales.filter((row) => row.operatorId === operatorId || row.operatorId === null),
    refunds: statement.refunds.filter((row) => row.operatorId === operatorId || row.operatorId === null),
    payAsYouGo: own(statement.payAsYouGo),
    ...(statement.bankCards && { bankCards: own(statement.bankCards) }),
    operators: operators.length > 0 ? operators : [{ operatorId, singleTickets: 0, passes: 0, payAsYouGo: 0, bankCards: 0, passAllocation: 0, adjustments: 0, total: 0 }],
    directPasses: own(statement.directPasses),
    passAllocation: statement.passAllocation
      .filter((pool) => pool.operators.some((row) => row.operatorId === operatorId))
      .map((pool) => ({ ...pool, operators: own(pool.operators) })),
    freeRides: own(statement.freeRides),
    rejectedTaps: own(statement.rejectedTaps),
    revenueAtRisk: own(statement.revenueAtRisk),
    maximumFareJourneys: own(statement.maximumFareJourneys),
    adjustments: own(statement.adjustments),
    ...(statement.customerService && { customerService: customerServiceFor(statement.customerService, operatorId) }),
  };
}

export const STATEMENT_CSV_COLUMNS = ['section', 'operator_id', 'line_id', 'product_id', 'rider_category', 'reason', 'allocation_key', 'belongs_to', 'count', 'amount', 'passenger_km', 'medium_kind'] as const;
type CsvRow = Partial<Record<(typeof STATEMENT_CSV_COLUMNS)[number], string | number | null>>;

/** The statement flattened to one CSV row per figure; the first rows say which day, whose, and whether it balances. */
export function statementCsvRows(statement: DailyStatement): CsvRow[] {
  const rows: CsvRow[] = [
    { section: 'statement', operator_id: statement.operatorId, reason: `${statement.date} ${statement.status}${statement.sha256 ? ` sha256:${statement.sha256}` : ''}` },
    { section: 'check_revenue', amount: statement.check.revenue },
    { section: 'check_adjustments', amount: statement.check.adjustments },
    { section: 'check_allocated', amount: statement.check.allocated },
    { section: 'check_unallocated', amount: statement.check.unallocated },
    { section: 'check_balanced', reason: String(statement.check.balanced) },
  ];
  for (const row of statement.allocationKeys) {
    const shares = row.shares === null ? '' : ` ${Object.entries(row.shares).map(([operatorId, weight]) => `${operatorId}:${weight}`).join(' ')}`;
    rows.push({ section: 'allocation_key', product_id: row.productId, allocation_key: row.key, reason: `${row.note}${shares}` });
  }
  for (const row of statement.sales) rows.push({ section: 'sale', operator_id: row.operatorId, product_id: row.productId, rider_category: row.riderCategory, count: row.count, amount: row.amount });
  for (const row of statement.refunds) rows.push({ section: 'refund', operator_id: row.operatorId, product_id: row.productId, rider_category: row.riderCategory, count: row.count, amount: -row.amount });
  for (const row of statement.payAsYouGo) rows.push({ section: 'pay_as_you_go', operator_id: row.operatorId, line_id: row.lineId, count: row.journeys, amount: row.collected });
  for (const row of statement.bankCards ?? []) {
    rows.push({ section: 'bank_card_collected', operator_id: row.operatorId, line_id: row.lineId, count: row.journeys, amount: row.collected });
    rows.push({ section: 'bank_card_declined', operator_id: row.operatorId, line_id: row.lineId, count: row.declinedJourneys, amount: row.declined });
    rows.push({ section: 'bank_card_not_charged', operator_id: row.operatorId, line_id: row.lineId, count: row.notChargedJourneys, amount: row.notCharged });
  }
  for (const row of statement.operators) {
    for (const part of ['singleTickets', 'passes', 'payAsYouGo', 'bankCards', 'passAllocation', 'adjustments', 'total'] as const) {
      rows.push({ section: `operator_${part}`, operator_id: row.operatorId, amount: row[part] ?? 0 });
    }
  }
  for (const row of statement.directPasses) rows.push({ section: 'direct_pass', operator_id: row.operatorId, product_id: row.productId, count: row.passes, amount: row.amount });
  for (const pool of statement.passAllocation) {
    rows.push({ section: 'pass_pool', product_id: pool.productId, allocation_key: pool.appliedKey, count: pool.passesUsed, amount: pool.amount });
    for (const row of pool.operators) {
      rows.push({ section: 'pass_allocation', operator_id: row.operatorId, product_id: pool.productId, allocation_key: pool.appliedKey, count: row.trips, amount: row.amount, passenger_km: row.passengerKm });
    }
    if (pool.unallocated !== 0) rows.push({ section: 'pass_pool_unallocated', product_id: pool.productId, amount: pool.unallocated });
  }
  for (const row of statement.unallocated.unusedPasses) rows.push({ section: 'unallocated_unused_pass', product_id: row.productId, count: row.passes, amount: row.amount });
  for (const row of statement.customerService?.adjustments ?? []) rows.push({ section: 'support_adjustment', operator_id: row.operatorId, reason: row.reason, count: row.count, amount: row.amount });
  for (const row of statement.customerService?.journeyCorrections ?? []) rows.push({ section: 'journey_correction', operator_id: row.operatorId, reason: row.kind, count: row.count, amount: -row.refunded });
  for (const row of statement.customerService?.penaltyRevenue ?? []) rows.push({ section: 'penalty_revenue', operator_id: row.operatorId, count: row.count, amount: row.amount });
  for (const row of statement.freeRides) rows.push({ section: 'free_rides', operator_id: row.operatorId, line_id: row.lineId, medium_kind: row.mediumKind, count: row.rides, passenger_km: row.passengerKm });
  for (const row of statement.rejectedTaps) rows.push({ section: 'rejected_taps', operator_id: row.operatorId, line_id: row.lineId, reason: row.reason, count: row.taps });
  for (const row of statement.revenueAtRisk) rows.push({ section: 'revenue_at_risk', operator_id: row.operatorId, line_id: row.lineId, reason: row.reason, count: row.taps, amount: row.fareAtRisk });
  for (const row of statement.maximumFareJourneys) rows.push({ section: 'maximum_fare', operator_id: row.operatorId, line_id: row.lineId, reason: row.subjectKind, count: row.journeys, amount: row.charged });
  for (const row of statement.adjustments) rows.push({ section: 'adjustment', operator_id: row.operatorId, belongs_to: row.belongsTo, reason: row.reason ?? null, amount: row.amount });
  return rows;
}
