import fc from 'fast-check';
import { ALLOCATION_KEYS, allocateDay, largestRemainderSplit, passDayPart, type AllocationRule, type OperatorUse, type PassPool } from './allocation';

const OPERATORS = ['hmc', 'transerco', 'vinbus'];
const PRODUCTS = ['bus-metro-day', 'bus-metro-week', 'bus-metro-month', 'bus-week'];

const rule: fc.Arbitrary<AllocationRule> = fc.constantFrom(...ALLOCATION_KEYS).chain((key): fc.Arbitrary<AllocationRule> =>
  key === 'fixed_shares'
    ? fc.record({ key: fc.constant(key), shares: fc.dictionary(fc.constantFrom(...OPERATORS), fc.integer({ min: 0, max: 100 })) })
    : fc.constant({ key, shares: null }),
);
const trip = fc.record({ operatorId: fc.constantFrom(...OPERATORS), day: fc.integer({ min: 0, max: 40 }), metres: fc.integer({ min: 0, max: 40_000 }) });
const pass = fc.record({
  productId: fc.constantFrom(...PRODUCTS),
  price: fc.integer({ min: 0, max: 5_640_000 }),
  validityDays: fc.integer({ min: 1, max: 30 }),
  firstDay: fc.integer({ min: 0, max: 10 }),
  trips: fc.array(trip, { maxLength: 12 }),
});
const directRow = fc.record({
  operatorId: fc.constantFrom(...OPERATORS),
  singleTickets: fc.integer({ min: 0, max: 10_000_000 }),
  passes: fc.integer({ min: 0, max: 10_000_000 }),
  payAsYouGo: fc.integer({ min: 0, max: 10_000_000 }),
});

type Pass = { productId: string; price: number; validityDays: number; firstDay: number; trips: Array<{ operatorId: string; day: number; metres: number }> };

/** What the settlement SQL does for one day, in memory: day parts of used passes pooled per product, the rest unused. */
function poolsOfDay(passes: readonly Pass[], rules: Record<string, AllocationRule>, day: number): { pools: PassPool[]; unusedPasses: number } {
  const pools = new Map<string, { amount: number; uses: Map<string, OperatorUse> }>();
  let unusedPasses = 0;
  for (const p of passes) {
    const part = passDayPart(p.price, p.validityDays, day - p.firstDay);
    const trips = p.trips.filter((t) => t.day === day && day >= p.firstDay && day < p.firstDay + p.validityDays);
    if (trips.length === 0) {
      unusedPasses += part;
      continue;
    }
    let pool = pools.get(p.productId);
    if (!pool) pools.set(p.productId, (pool = { amount: 0, uses: new Map() }));
    pool.amount += part;
    for (const t of trips) {
      const use = pool.uses.get(t.operatorId) ?? { operatorId: t.operatorId, trips: 0, passengerMetres: 0 };
      pool.uses.set(t.operatorId, { ...use, trips: use.trips + 1, passengerMetres: use.passengerMetres + t.metres });
    }
  }
  return { pools: [...pools].map(([productId, pool]) => ({ productId, rule: rules[productId], amount: pool.amount, uses: [...pool.uses.values()] })), unusedPasses };
}

describe('allocation properties', () => {
  it('a largest-remainder split sums to the amount and keeps every part within one đồng of its exact share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000_000 }), fc.array(fc.integer({ min: 0, max: 100_000_000 }), { minLength: 1, maxLength: 8 }), (amount, weights) => {
        const parts = largestRemainderSplit(amount, weights);
        const total = weights.reduce((a, b) => a + b, 0);
        if (total === 0) return expect(parts.every((part) => part === 0)).toBe(true);
        expect(parts.reduce((a, b) => a + b, 0)).toBe(amount);
        parts.forEach((part, index) => expect(Math.abs(part - (amount * weights[index]) / total)).toBeLessThan(1 + 1e-6));
      }),
      { numRuns: 2000 },
    );
  });

  it('random passes and trips: every day balances, and over all days the passes allocate exactly what they cost', () => {
    const rules = fc.record(Object.fromEntries(PRODUCTS.map((id) => [id, rule])));
    fc.assert(
      fc.property(fc.array(pass, { maxLength: 20 }), rules, fc.array(directRow, { maxLength: 4 }), (passes, productRules, direct) => {
        let allocated = 0;
        let unallocated = 0;
        for (let day = 0; day <= 40; day++) {
          const { pools, unusedPasses } = poolsOfDay(passes, productRules, day);
          const result = allocateDay(day === 0 ? direct : [], pools, unusedPasses);
          expect(result.check.balanced).toBe(true);
          expect(result.operators.every((row) => row.total >= 0 && Number.isSafeInteger(row.total))).toBe(true);
          allocated += result.check.allocated;
          unallocated += result.check.unallocated;
        }
        const direct0 = direct.reduce((sum, row) => sum + row.singleTickets + row.passes + row.payAsYouGo, 0);
        expect(allocated + unallocated).toBe(passes.reduce((sum, p) => sum + p.price, 0) + direct0);
      }),
      { numRuns: 500 },
    );
  });
});
