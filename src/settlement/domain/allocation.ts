/**
 * Allocation of fare revenue to operators, in whole đồng. Every split here is a largest-remainder
 * (Hamilton) split: each share gets the floor of its exact part, and the đồng left over go one each
 * to the largest fractional remainders (ties to the earlier share, so the result is reproducible).
 * The parts always sum to the amount: no đồng is created or lost by rounding.
 */

export const ALLOCATION_KEYS = ['trips', 'passenger_km', 'fixed_shares'] as const;
/** How a product's revenue is split among the operators it covers. */
export type AllocationKey = (typeof ALLOCATION_KEYS)[number];

/** A product's allocation key; `shares` (operator id → weight) only for fixed shares. */
export interface AllocationRule {
  key: AllocationKey;
  shares: Readonly<Record<string, number>> | null;
}

/** Splits `amount` in proportion to `weights`. All-zero weights split nothing: the result is all zeros. */
export function largestRemainderSplit(amount: number, weights: readonly number[]): number[] {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new Error(`an amount to split must be a whole, non-negative number of đồng, got ${amount}`);
  for (const weight of weights) if (!Number.isSafeInteger(weight) || weight < 0) throw new Error(`split weights must be whole and non-negative, got ${weight}`);
  const total = weights.reduce((sum, weight) => sum + BigInt(weight), 0n);
  if (total === 0n) return weights.map(() => 0);
  // BigInt: passenger-metres times đồng overflows a double's exact range on a busy day.
  const exact = weights.map((weight) => BigInt(amount) * BigInt(weight));
  const parts = exact.map((value) => value / total);
  let left = amount - parts.reduce((sum, part) => sum + Number(part), 0);
  const order = exact
    .map((value, index) => ({ index, remainder: value % total }))
    .sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const { index } of order) {
    if (left === 0) break;
    parts[index] += 1n;
    left -= 1;
  }
  return parts.map(Number);
}

/**
 * The part of a pass's price that falls on the `dayIndex`-th day of its validity (0-based): the price
 * spread evenly over the days, the odd đồng on the first days. The settlement SQL computes the same
 * (see PASS_DAY_PART_SQL in settlement.queries.ts); an integration test holds the two together.
 */
export function passDayPart(price: number, validityDays: number, dayIndex: number): number {
  if (dayIndex < 0 || dayIndex >= validityDays) return 0;
  return Math.floor(price / validityDays) + (dayIndex < price % validityDays ? 1 : 0);
}

/** One operator's use, on one day, of the passes of one product. */
export interface OperatorUse {
  operatorId: string;
  trips: number;
  /** Passenger-metres: the sum of the journeys' lengths. */
  passengerMetres: number;
}

/** The day parts of a product's passes that were used on the day, to be split by the product's key. */
export interface PassPool {
  productId: string;
  rule: AllocationRule;
  amount: number;
  uses: readonly OperatorUse[];
}

export interface PoolAllocation {
  productId: string;
  rule: AllocationRule;
  /** The key actually applied: passenger-km falls back to trips when every journey measured 0 km. */
  appliedKey: AllocationKey;
  amount: number;
  operators: Array<{ operatorId: string; trips: number; passengerMetres: number; weight: number; amount: number }>;
  /** What no operator could take (no use, or fixed shares naming no operator): shown, never dropped. */
  unallocated: number;
}

/** Splits a product's pool among operators by its key; operators are ordered by id for reproducible ties. */
export function allocatePool(pool: PassPool): PoolAllocation {
  const uses = new Map(pool.uses.map((use) => [use.operatorId, use]));
  const operatorIds = [...new Set([...uses.keys(), ...Object.keys(pool.rule.shares ?? {})])].sort();
  const appliedKey = pool.rule.key === 'passenger_km' && pool.uses.every((use) => use.passengerMetres === 0) ? 'trips' : pool.rule.key;
  const weights = operatorIds.map((operatorId) => {
    const use = uses.get(operatorId);
    switch (appliedKey) {
      case 'trips':
        return use?.trips ?? 0;
      case 'passenger_km':
        return use?.passengerMetres ?? 0;
      case 'fixed_shares':
        return pool.rule.shares?.[operatorId] ?? 0;
    }
  });
  const amounts = largestRemainderSplit(pool.amount, weights);
  const allocated = amounts.reduce((sum, amount) => sum + amount, 0);
  return {
    productId: pool.productId,
    rule: pool.rule,
    appliedKey,
    amount: pool.amount,
    operators: operatorIds.map((operatorId, index) => ({
      operatorId,
      trips: uses.get(operatorId)?.trips ?? 0,
      passengerMetres: uses.get(operatorId)?.passengerMetres ?? 0,
      weight: weights[index],
      amount: amounts[index],
    })),
    unallocated: pool.amount - allocated,
  };
}

/** Revenue attributed directly to one operator (the product is valid on that operator only). */
export interface DirectRevenue {
  operatorId: string;
  singleTickets: number;
  passes: number;
  payAsYouGo: number;
}

export interface OperatorRevenue extends DirectRevenue {
  passAllocation: number;
  total: number;
}

export interface DayAllocation {
  operators: OperatorRevenue[];
  pools: PoolAllocation[];
  /** Day parts of network passes nobody used that day, plus pool remainders no operator could take. */
  unallocated: { unusedPasses: number; pools: number; total: number };
  check: BalanceCheck;
}

export interface BalanceCheck {
  /** The day's revenue: single tickets, pass day parts and pay-as-you-go fares. */
  revenue: number;
  allocated: number;
  unallocated: number;
  /** revenue = allocated + unallocated, to the đồng. */
  balanced: boolean;
}

/**
 * Allocates a day: direct revenue as it stands, each product's pool by its key, and the day parts of
 * passes not used that day left unallocated. The check is computed from the inputs, not the outputs.
 */
export function allocateDay(direct: readonly DirectRevenue[], pools: readonly PassPool[], unusedPasses: number): DayAllocation {
  const allocations = [...pools].sort((a, b) => a.productId.localeCompare(b.productId)).map(allocatePool);
  const operators = new Map<string, OperatorRevenue>();
  const operator = (operatorId: string) => {
    let row = operators.get(operatorId);
    if (!row) operators.set(operatorId, (row = { operatorId, singleTickets: 0, passes: 0, payAsYouGo: 0, passAllocation: 0, total: 0 }));
    return row;
  };
  for (const row of direct) {
    const target = operator(row.operatorId);
    target.singleTickets += row.singleTickets;
    target.passes += row.passes;
    target.payAsYouGo += row.payAsYouGo;
  }
  for (const allocation of allocations) for (const share of allocation.operators) if (share.amount > 0) operator(share.operatorId).passAllocation += share.amount;
  for (const row of operators.values()) row.total = row.singleTickets + row.passes + row.payAsYouGo + row.passAllocation;

  const revenue =
    direct.reduce((sum, row) => sum + row.singleTickets + row.passes + row.payAsYouGo, 0) + pools.reduce((sum, pool) => sum + pool.amount, 0) + unusedPasses;
  const poolRemainders = allocations.reduce((sum, allocation) => sum + allocation.unallocated, 0);
  const allocated = [...operators.values()].reduce((sum, row) => sum + row.total, 0);
  const unallocated = unusedPasses + poolRemainders;
  return {
    operators: [...operators.values()].sort((a, b) => a.operatorId.localeCompare(b.operatorId)),
    pools: allocations,
    unallocated: { unusedPasses, pools: poolRemainders, total: unallocated },
    check: { revenue, allocated, unallocated, balanced: revenue === allocated + unallocated },
  };
}
