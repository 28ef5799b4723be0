import { allocateDay, allocatePool, largestRemainderSplit, passDayPart } from './allocation';

describe('largestRemainderSplit', () => {
  it('gives the odd đồng to the largest remainders, ties to the earlier share', () => {
    expect(largestRemainderSplit(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(largestRemainderSplit(10, [1, 2])).toEqual([3, 7]);
    expect(largestRemainderSplit(5, [0, 0])).toEqual([0, 0]);
  });

  it('refuses fractions and negative amounts', () => {
    expect(() => largestRemainderSplit(10.5, [1])).toThrow(/whole/);
    expect(() => largestRemainderSplit(10, [-1, 2])).toThrow(/non-negative/);
  });
});

describe('passDayPart', () => {
  it('spreads a month pass over its 30 days with the odd đồng on the first days', () => {
    // 500,000 / 30 = 16,666 rest 20: days 0–19 carry 16,667, days 20–29 carry 16,666.
    expect(passDayPart(500_000, 30, 0)).toBe(16_667);
    expect(passDayPart(500_000, 30, 19)).toBe(16_667);
    expect(passDayPart(500_000, 30, 20)).toBe(16_666);
    expect(passDayPart(500_000, 30, 30)).toBe(0);
    expect(Array.from({ length: 30 }, (_, day) => passDayPart(500_000, 30, day)).reduce((a, b) => a + b)).toBe(500_000);
  });
});

describe('allocatePool: worked examples, one per key', () => {
  it('by trips: 100,000 đ over 2 metro trips and 1 bus trip', () => {
    const result = allocatePool({
      productId: 'bus-metro-day',
      rule: { key: 'trips', shares: null },
      amount: 100_000,
      uses: [
        { operatorId: 'transerco', trips: 1, passengerMetres: 9_000 },
        { operatorId: 'hmc', trips: 2, passengerMetres: 3_000 },
      ],
    });
    // Exact parts 66,666.67 and 33,333.33: the odd đồng goes to HMC's larger remainder.
    expect(result.operators.map(({ operatorId, amount }) => [operatorId, amount])).toEqual([
      ['hmc', 66_667],
      ['transerco', 33_333],
    ]);
    expect(result.unallocated).toBe(0);
  });

  it('by passenger-km: the first day of a 500,000 đ month pass, 12.5 km on metro and 5.1 km on bus', () => {
    const result = allocatePool({
      productId: 'bus-metro-month',
      rule: { key: 'passenger_km', shares: null },
      amount: passDayPart(500_000, 30, 0),
      uses: [
        { operatorId: 'hmc', trips: 1, passengerMetres: 12_500 },
        { operatorId: 'transerco', trips: 1, passengerMetres: 5_100 },
      ],
    });
    // 16,667 × 12,500 / 17,600 = 11,837.36; 16,667 × 5,100 / 17,600 = 4,829.64: the odd đồng to Transerco.
    expect(result.operators.map(({ operatorId, amount }) => [operatorId, amount])).toEqual([
      ['hmc', 11_837],
      ['transerco', 4_830],
    ]);
    expect(result.appliedKey).toBe('passenger_km');
  });

  it('by passenger-km falls back to trips when every journey measured 0 km', () => {
    const result = allocatePool({
      productId: 'p',
      rule: { key: 'passenger_km', shares: null },
      amount: 9,
      uses: [
        { operatorId: 'a', trips: 2, passengerMetres: 0 },
        { operatorId: 'b', trips: 1, passengerMetres: 0 },
      ],
    });
    expect(result.appliedKey).toBe('trips');
    expect(result.operators.map((share) => share.amount)).toEqual([6, 3]);
  });

  it('by fixed shares 60/25/15, whatever the use: 50,001 đ', () => {
    const result = allocatePool({
      productId: 'bus-metro-week',
      rule: { key: 'fixed_shares', shares: { hmc: 60, transerco: 25, vinbus: 15 } },
      amount: 50_001,
      uses: [{ operatorId: 'hmc', trips: 1, passengerMetres: 1_000 }],
    });
    // Exact 30,000.6 / 12,500.25 / 7,500.15.
    expect(result.operators.map(({ operatorId, amount }) => [operatorId, amount])).toEqual([
      ['hmc', 30_001],
      ['transerco', 12_500],
      ['vinbus', 7_500],
    ]);
  });

  it('leaves a pool with no weight at all unallocated', () => {
    const result = allocatePool({ productId: 'p', rule: { key: 'trips', shares: null }, amount: 1_234, uses: [] });
    expect(result).toMatchObject({ operators: [], unallocated: 1_234 });
  });
});

describe('allocateDay', () => {
  it('adds direct revenue, pool shares and unused passes, and balances', () => {
    const day = allocateDay(
      [
        { operatorId: 'hmc', singleTickets: 8_595, passes: 9_334, payAsYouGo: 0 },
        { operatorId: 'vinbus', singleTickets: 0, passes: 0, payAsYouGo: 8_000 },
      ],
      [{ productId: 'bus-metro-day', rule: { key: 'trips', shares: null }, amount: 50_000, uses: [{ operatorId: 'hmc', trips: 1, passengerMetres: 700 }, { operatorId: 'vinbus', trips: 1, passengerMetres: 2_100 }] }],
      16_667,
    );
    expect(day.operators).toEqual([
      { operatorId: 'hmc', singleTickets: 8_595, passes: 9_334, payAsYouGo: 0, passAllocation: 25_000, total: 42_929 },
      { operatorId: 'vinbus', singleTickets: 0, passes: 0, payAsYouGo: 8_000, passAllocation: 25_000, total: 33_000 },
    ]);
    expect(day.unallocated).toEqual({ unusedPasses: 16_667, pools: 0, total: 16_667 });
    expect(day.check).toEqual({ revenue: 92_596, allocated: 75_929, unallocated: 16_667, balanced: true });
  });
});
