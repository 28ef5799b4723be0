import { HANOI_LINES } from '../../network/hanoi-network';
import { HANOI_FARE_TABLES, HANOI_PRODUCTS, HANOI_WAIVERS, HANOI_ZONES } from '../hanoi-fares';
import { FREE_RIDER_CATEGORIES } from '../rider-category';
import { FareCalculator, MODE_BITS, type PayAsYouGoSpend } from './fare-calculator';
import type { FareSnapshot, FareTable, NetworkLine } from './fare-model';
import { localDayNumber, localWeekNumber } from './local-time';

const HANOI_SNAPSHOT: FareSnapshot = {
  lines: HANOI_LINES,
  zones: HANOI_ZONES,
  fareTables: HANOI_FARE_TABLES,
  products: HANOI_PRODUCTS,
  waivers: HANOI_WAIVERS,
};

const at = (iso: string) => Date.parse(iso);
/** An ordinary weekday under the Aug 2025 tariff (metro by distance, bus by route length). */
const AUG_2025 = at('2025-10-15T08:00:00+07:00');
/** Under the bus distance table, outside every waiver. */
const DEC_2027 = at('2027-12-01T08:00:00+07:00');
const NONE: PayAsYouGoSpend = { daySpent: 0, dayModes: 0, weekSpent: 0, weekModes: 0 };

describe('FareCalculator with Hà Nội fares', () => {
  const fares = new FareCalculator(HANOI_SNAPSHOT);

  describe('metro single trips: 8,000 + 850 đ/km, cash rounded up to the thousand', () => {
    it.each([
      ['2a-cat-linh', '2a-la-thanh', 8_595, 9_000, 700],
      ['2a-cat-linh', '2a-yen-nghia', 18_625, 19_000, 12_500],
      ['3-nhon', '3-minh-khai', 8_935, 9_000, 1_100],
      ['3-nhon', '3-cau-giay', 14_290, 15_000, 7_400],
    ])('%s → %s costs %i (cash %i)', (from, to, amount, cash, distanceM) => {
      const quote = fares.quote(null, from, to, 'adult', AUG_2025);
      expect(quote).toMatchObject({ amount, cashAmount: cash, fullAmount: amount, distanceM, ruleId: 'hanoi-2025-08-01:metro-distance', waiverId: null });
    });

    it('charges priority riders the same single fare', () => {
      expect(fares.quote('metro-2a', '2a-cat-linh', '2a-yen-nghia', 'priority', AUG_2025).amount).toBe(18_625);
    });

    it('is the same in both directions', () => {
      expect(fares.quote(null, '2a-yen-nghia', '2a-cat-linh', 'adult', AUG_2025).amount).toBe(18_625);
    });

    it('charges the end-to-end fare as the line maximum', () => {
      expect(fares.maximumFare('metro-3', 'adult', AUG_2025).amount).toBe(14_290);
    });
  });

  describe('bus single trips by route length (from 1 Nov 2024)', () => {
    const lineOfLength = (id: string, lengthM: number): NetworkLine => ({
      id,
      code: id,
      name: id,
      mode: 'bus',
      operatorId: 'transerco',
      stations: [
        { id: `${id}-a`, name: 'A', positionM: 0 },
        { id: `${id}-b`, name: 'B', positionM: lengthM },
      ],
    });
    const lengths: Array<[number, number]> = [
      [14_999, 8_000],
      [15_000, 10_000],
      [24_999, 10_000],
      [25_000, 12_000],
      [30_000, 15_000],
      [39_999, 15_000],
      [40_000, 20_000],
      [62_000, 20_000],
    ];
    const banded = new FareCalculator({ ...HANOI_SNAPSHOT, lines: lengths.map(([metres]) => lineOfLength(`bus-${metres}`, metres)) });

    it.each(lengths)('a route of %i m costs %i for any trip on it', (metres, amount) => {
      expect(banded.quote(null, `bus-${metres}-a`, `bus-${metres}-b`, 'adult', AUG_2025)).toMatchObject({ amount, cashAmount: amount });
      expect(banded.quote(null, `bus-${metres}-a`, `bus-${metres}-a`, 'adult', AUG_2025).amount).toBe(amount);
    });

    it('prices the seeded BRT01 (14.7 km) at 8,000 and bus 32 (22.3 km) at 10,000', () => {
      expect(fares.quote(null, 'brt01-kim-ma', 'brt01-giang-vo', 'adult', AUG_2025).amount).toBe(8_000);
      expect(fares.quote(null, '32-ben-xe-giap-bat', '32-giai-phong', 'adult', AUG_2025).amount).toBe(10_000);
    });

    it('has no metro fare before the Aug 2025 metro tariff', () => {
      expect(() => fares.quote(null, '3-nhon', '3-cau-giay', 'adult', at('2025-01-10T08:00:00+07:00'))).toThrow(
        expect.objectContaining({ code: 'NO_FARE_RULE' }),
      );
    });
  });

  describe('bus single trips by distance (the later table): 3,000 + 450 đ/km, 4,350 … 32,000', () => {
    it('charges by distance between the stops', () => {
      // Bến xe Giáp Bát (0 km) → Xã Đàn (5.1 km): 3,000 + 2,295.
      expect(fares.quote(null, '32-ben-xe-giap-bat', '32-xa-dan', 'adult', DEC_2027)).toMatchObject({
        amount: 5_295,
        cashAmount: 6_000,
        ruleId: 'hanoi-2026-06-25:bus-distance',
      });
    });

    it('charges at least 4,350 and at most 32,000', () => {
      expect(fares.quote(null, '32-xa-dan', '32-tay-son', 'adult', DEC_2027).amount).toBe(4_350);
      const long = new FareCalculator({
        ...HANOI_SNAPSHOT,
        lines: [{ id: 'long', code: 'L', name: 'L', mode: 'bus', operatorId: 'x', stations: [{ id: 'l-a', name: 'A', positionM: 0 }, { id: 'l-b', name: 'B', positionM: 90_000 }] }],
      });
      expect(long.quote(null, 'l-a', 'l-b', 'adult', DEC_2027).amount).toBe(32_000);
    });
  });

  describe('rider categories and waivers', () => {
    it.each(FREE_RIDER_CATEGORIES)('%s rides free, and the quote keeps the fare the city pays for', (category) => {
      expect(fares.quote(null, '2a-cat-linh', '2a-yen-nghia', category, AUG_2025)).toMatchObject({ amount: 0, cashAmount: 0, fullAmount: 18_625 });
    });

    it.each([
      ['National Day 2025', '2025-08-30T00:00:00+07:00', 'national-day-2025'],
      ['National Day 2025, last minute', '2025-09-02T23:59:59+07:00', 'national-day-2025'],
      ['Tết 2026', '2026-02-17T12:00:00+07:00', 'tet-2026'],
    ])('everyone rides free on %s', (_, time, waiverId) => {
      expect(fares.quote(null, '2a-cat-linh', '2a-yen-nghia', 'adult', at(time))).toMatchObject({ amount: 0, cashAmount: 0, fullAmount: 18_625, waiverId });
      expect(fares.quote(null, '32-ben-xe-giap-bat', '32-nhon', 'adult', at(time)).amount).toBe(0);
    });

    it('charges again the moment a holiday waiver ends', () => {
      expect(fares.quote(null, '2a-cat-linh', '2a-yen-nghia', 'adult', at('2025-09-03T00:00:00+07:00')).amount).toBe(18_625);
    });

    it('waives trips wholly inside Ring Road 1 from 1 Jul 2026 to 30 Jun 2027 only', () => {
      const inside = (time: string) => fares.quote(null, 'brt01-kim-ma', 'brt01-giang-vo', 'adult', at(time));
      expect(inside('2026-07-01T00:00:00+07:00')).toMatchObject({ amount: 0, waiverId: 'ring-road-1-2026' });
      expect(inside('2027-06-30T23:59:59+07:00').amount).toBe(0);
      expect(inside('2026-06-30T23:59:59+07:00').amount).toBeGreaterThan(0);
      expect(inside('2027-07-01T00:00:00+07:00').amount).toBeGreaterThan(0);
      // Leaving the ring is charged.
      expect(fares.quote(null, 'brt01-kim-ma', 'brt01-lang-ha', 'adult', at('2026-08-01T08:00:00+07:00')).amount).toBe(4_350);
    });

    it('honours waivers limited to lines, modes and rider categories', () => {
      const limited = new FareCalculator({
        ...HANOI_SNAPSHOT,
        waivers: [
          { id: 'students', name: 's', startsAt: AUG_2025 - 1, endsAt: AUG_2025 + 1, lineIds: ['metro-3'], modes: ['metro'], riderCategories: ['priority'], zoneId: null },
        ],
      });
      expect(limited.quote(null, '3-nhon', '3-cau-giay', 'priority', AUG_2025).amount).toBe(0);
      expect(limited.quote(null, '3-nhon', '3-cau-giay', 'adult', AUG_2025).amount).toBe(14_290);
      expect(limited.quote(null, '2a-cat-linh', '2a-la-thanh', 'priority', AUG_2025).amount).toBe(8_595);
    });
  });

  describe('pass prices (Decision 3316/QĐ-UBND)', () => {
    it.each([
      ['metro-day', 40_000, 40_000],
      ['metro-week', 160_000, 160_000],
      ['metro-month', 280_000, 140_000],
      ['bus-day', 30_000, 30_000],
      ['bus-week', 120_000, 120_000],
      ['bus-month-single-route', 140_000, 70_000],
      ['bus-month-inter-route', 280_000, 140_000],
      ['bus-metro-day', 50_000, 50_000],
      ['bus-metro-week', 200_000, 200_000],
      ['bus-metro-month', 500_000, 235_000],
      ['bus-12-month-single-route', 1_580_000, 790_000],
      ['bus-12-month-inter-route', 3_158_000, 1_580_000],
      ['bus-metro-12-month', 5_640_000, 2_820_000],
    ])('%s costs %i, %i for priority riders, nothing for the free groups', (productId, adult, priority) => {
      const prices = fares.productAt(productId, DEC_2027)?.prices;
      expect(prices).toMatchObject({ adult, priority });
      for (const category of FREE_RIDER_CATEGORIES) expect(prices?.[category]).toBe(0);
    });

    it('did not sell a product before its first version', () => {
      expect(fares.productAt('metro-day', at('2025-01-01T00:00:00+07:00'))).toBeUndefined();
      expect(fares.productsAt(at('2025-01-01T00:00:00+07:00')).map((p) => p.productId)).toEqual(['bus-single']);
    });
  });

  describe('pay-as-you-go capping', () => {
    /** Charges legs in order, carrying the spend like the gate state would. */
    function ride(legs: Array<[string, string]>, when: number, start: PayAsYouGoSpend = NONE): number[] {
      let spend = start;
      return legs.map(([from, to]) => {
        const quote = fares.quote(null, from, to, 'adult', when);
        const { charge } = fares.chargeLeg(quote, spend);
        const bit = MODE_BITS[quote.mode];
        spend = { daySpent: spend.daySpent + charge, dayModes: spend.dayModes | bit, weekSpent: spend.weekSpent + charge, weekModes: spend.weekModes | bit };
        return charge;
      });
    }
    const longMetro: [string, string] = ['2a-cat-linh', '2a-yen-nghia'];

    it('stops charging metro riders at the metro day-pass price, 40,000', () => {
      expect(ride([longMetro, longMetro, longMetro, longMetro], AUG_2025)).toEqual([18_625, 18_625, 2_750, 0]);
    });

    it('stops charging bus riders at the bus day-pass price, 30,000', () => {
      const bus32: [string, string] = ['32-ben-xe-giap-bat', '32-nhon'];
      expect(ride([bus32, bus32, bus32, bus32], AUG_2025)).toEqual([10_000, 10_000, 10_000, 0]);
    });

    it('moves a rider who mixes bus and metro to the bus + metro cap, 50,000', () => {
      const charges = ride([longMetro, longMetro, longMetro, ['32-ben-xe-giap-bat', '32-nhon'], longMetro], AUG_2025);
      expect(charges).toEqual([18_625, 18_625, 2_750, 10_000, 0]);
      expect(charges.reduce((sum, charge) => sum + charge, 0)).toBe(50_000);
    });

    it('stops charging at the week-pass price, 160,000 for metro', () => {
      const spentThisWeek: PayAsYouGoSpend = { daySpent: 0, dayModes: 0, weekSpent: 150_000, weekModes: MODE_BITS.metro };
      expect(ride([longMetro, longMetro], AUG_2025, spentThisWeek)).toEqual([10_000, 0]);
    });

    it('charges free riders nothing and uncapped fares when no pass caps the modes', () => {
      const quote = fares.quote(null, '2a-cat-linh', '2a-yen-nghia', 'elderly', AUG_2025);
      expect(fares.chargeLeg(quote, NONE)).toEqual({ charge: 0, dayCap: 0, weekCap: 0, capped: false });
      const noPasses = new FareCalculator({ ...HANOI_SNAPSHOT, products: [] });
      const full = noPasses.quote(null, '2a-cat-linh', '2a-yen-nghia', 'adult', AUG_2025);
      expect(noPasses.chargeLeg(full, { daySpent: 1_000_000, dayModes: 7, weekSpent: 1_000_000, weekModes: 7 }).charge).toBe(18_625);
    });
  });

  describe('versions', () => {
    const future = at('2030-01-01T00:00:00+07:00');
    const dearer: FareTable = {
      id: 'dearer',
      effectiveFrom: future,
      freeRiderCategories: FREE_RIDER_CATEGORIES,
      rules: [{ id: 'metro', modes: ['metro'], lineIds: null, method: 'distance', baseAmount: 9_000, perKmAmount: 1_000, minAmount: null, maxAmount: null, cashRoundingUnit: 1_000 }],
    };
    const versioned = new FareCalculator({ ...HANOI_SNAPSHOT, fareTables: [...HANOI_FARE_TABLES, dearer] });

    it('quotes the table in force at the instant asked, from its effectiveFrom exactly', () => {
      expect(versioned.quote(null, '2a-cat-linh', '2a-la-thanh', 'adult', future - 1).amount).toBe(8_595);
      expect(versioned.quote(null, '2a-cat-linh', '2a-la-thanh', 'adult', future)).toMatchObject({ amount: 9_700, ruleId: 'dearer:metro' });
    });

    it('prefers a rule for the line over a rule for its mode', () => {
      const lineRule = { ...dearer.rules[0], id: 'l3', lineIds: ['metro-3'], baseAmount: 1_000 };
      const withLineRule = new FareCalculator({ ...HANOI_SNAPSHOT, fareTables: [{ ...dearer, rules: [dearer.rules[0], lineRule] }] });
      expect(withLineRule.quote(null, '3-nhon', '3-minh-khai', 'adult', future).amount).toBe(2_100);
      expect(withLineRule.quote(null, '2a-cat-linh', '2a-la-thanh', 'adult', future).amount).toBe(9_700);
    });

    it('refuses a time before any fare table', () => {
      expect(() => fares.quote(null, '3-nhon', '3-cau-giay', 'adult', at('2020-01-01T00:00:00Z'))).toThrow(expect.objectContaining({ code: 'NO_FARE_TABLE' }));
    });
  });

  describe('bad input', () => {
    it.each([
      [null, 'nowhere', '3-nhon', 'UNKNOWN_STATION'],
      [null, '3-nhon', '2a-cat-linh', 'STATIONS_ON_DIFFERENT_LINES'],
      ['metro-2a', '3-nhon', '3-cau-giay', 'STATION_NOT_ON_LINE'],
      ['metro-9', '3-nhon', '3-cau-giay', 'UNKNOWN_LINE'],
    ])('line %s, %s → %s is refused with %s', (lineId, from, to, code) => {
      expect(() => fares.quote(lineId, from, to, 'adult', AUG_2025)).toThrow(expect.objectContaining({ code }));
    });
  });
});

describe('local fare days and weeks (UTC+07:00)', () => {
  it('starts a day at local midnight and a week on Monday', () => {
    expect(localDayNumber(at('2026-11-22T23:59:59+07:00'))).toBe(localDayNumber(at('2026-11-22T00:00:00+07:00')));
    expect(localDayNumber(at('2026-11-22T17:00:00Z'))).toBe(localDayNumber(at('2026-11-22T16:59:59Z')) + 1);
    // 22 Nov 2026 is a Sunday, 23 Nov a Monday.
    expect(localWeekNumber(at('2026-11-23T00:00:00+07:00'))).toBe(localWeekNumber(at('2026-11-22T23:59:59+07:00')) + 1);
    expect(localWeekNumber(at('2026-11-29T23:59:59+07:00'))).toBe(localWeekNumber(at('2026-11-23T00:00:00+07:00')));
  });
});
