import { adjustmentsFor, forOperator, statementCsvRows, type DailyStatement } from './statement';

describe('adjustmentsFor', () => {
  it('owes what a closed day comes to now, less what was frozen and what later days already adjusted', () => {
    const now = new Map<string | null, number>([
      ['hmc', 40_000],
      ['vinbus', 25_000],
      [null, 5_000],
    ]);
    const frozen = new Map<string | null, number>([
      ['hmc', 60_000],
      [null, 10_000],
    ]);
    const already = [
      { belongsTo: '2026-10-05', operatorId: 'hmc', amount: -15_000 },
      { belongsTo: '2026-10-05', operatorId: 'vinbus', amount: 15_000 },
    ];
    expect(adjustmentsFor('2026-10-05', now, frozen, already)).toEqual([
      { belongsTo: '2026-10-05', operatorId: 'hmc', amount: -5_000 },
      { belongsTo: '2026-10-05', operatorId: 'vinbus', amount: 10_000 },
      { belongsTo: '2026-10-05', operatorId: null, amount: -5_000 },
    ]);
  });

  it('owes nothing when nothing changed', () => {
    const same = new Map<string | null, number>([['hmc', 1], [null, 2]]);
    expect(adjustmentsFor('2026-10-05', same, new Map(same), [])).toEqual([]);
  });
});

describe('an operator view and the CSV', () => {
  const statement = {
    date: '2026-10-05',
    operatorId: null,
    status: 'open',
    sha256: null,
    allocationKeys: [{ productId: 'bus-metro-day', key: 'trips', shares: null, effectiveFrom: '2026-06-24T17:00:00.000Z', note: 'test' }],
    sales: [
      { productId: 'metro-single', riderCategory: 'adult', kind: 'single', operatorId: 'hmc', count: 1, amount: 8_595 },
      { productId: 'bus-single', riderCategory: 'adult', kind: 'single', operatorId: 'vinbus', count: 1, amount: 8_000 },
      { productId: 'bus-metro-day', riderCategory: 'adult', kind: 'pass', operatorId: null, count: 1, amount: 50_000 },
    ],
    refunds: [],
    payAsYouGo: [],
    operators: [
      { operatorId: 'hmc', singleTickets: 8_595, passes: 0, payAsYouGo: 0, passAllocation: 25_000, adjustments: 0, total: 33_595 },
      { operatorId: 'vinbus', singleTickets: 8_000, passes: 0, payAsYouGo: 0, passAllocation: 25_000, adjustments: 0, total: 33_000 },
    ],
    directPasses: [],
    passAllocation: [
      {
        productId: 'bus-metro-day',
        allocationKey: { key: 'trips', shares: null, source: 'table', effectiveFrom: null, note: '' },
        appliedKey: 'trips',
        passesUsed: 1,
        amount: 50_000,
        operators: [
          { operatorId: 'hmc', trips: 1, passengerKm: 1.1, weight: 1, amount: 25_000 },
          { operatorId: 'vinbus', trips: 1, passengerKm: 2.1, weight: 1, amount: 25_000 },
        ],
        unallocated: 0,
      },
    ],
    unallocated: { unusedPasses: [], poolRemainders: 0, total: 0 },
    freeRides: [],
    rejectedTaps: [],
    revenueAtRisk: [],
    maximumFareJourneys: [],
    adjustments: [],
    check: { revenue: 66_595, adjustments: 0, allocated: 66_595, unallocated: 0, balanced: true },
  } as unknown as DailyStatement;

  it("shows an operator its own lines and the network products, never another operator's", () => {
    const view = forOperator(statement, 'hmc');
    expect(view.operatorId).toBe('hmc');
    expect(view.sales.map((row) => row.productId)).toEqual(['metro-single', 'bus-metro-day']);
    expect(view.operators.map((row) => row.operatorId)).toEqual(['hmc']);
    expect(view.passAllocation[0].operators.map((row) => row.operatorId)).toEqual(['hmc']);
    expect(forOperator(statement, 'transerco').operators).toEqual([
      { operatorId: 'transerco', singleTickets: 0, passes: 0, payAsYouGo: 0, bankCards: 0, passAllocation: 0, adjustments: 0, total: 0 },
    ]);
  });

  it('opens the CSV with the day and its balance check', () => {
    expect(statementCsvRows(statement).slice(0, 6)).toEqual([
      { section: 'statement', operator_id: null, reason: '2026-10-05 open' },
      { section: 'check_revenue', amount: 66_595 },
      { section: 'check_adjustments', amount: 0 },
      { section: 'check_allocated', amount: 66_595 },
      { section: 'check_unallocated', amount: 0 },
      { section: 'check_balanced', reason: 'true' },
    ]);
    expect(statementCsvRows(statement)[6]).toEqual({ section: 'allocation_key', product_id: 'bus-metro-day', allocation_key: 'trips', reason: 'test' });
  });
});
