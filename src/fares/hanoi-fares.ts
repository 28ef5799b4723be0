import type { FareTable, FareWaiver, FareZone, ProductVersion, RouteLengthBand } from './domain/fare-model';
import { FREE_RIDER_CATEGORIES, type RiderCategory } from './rider-category';

/**
 * Hà Nội's fares as seeded (../shared/domain/hanoi.md: Decision 3316/QĐ-UBND 2025 and the Aug 2025
 * metro tariff). The seed is append-only: a change is a new version with a later effectiveFrom.
 *
 * Dates the sources do not give exactly are marked UNCONFIRMED; they are data, and an admin
 * corrects them by posting a new version.
 */

/** Local midnight (UTC+07:00) of a date, as epoch milliseconds. */
function localMidnight(date: string): number {
  return Date.parse(`${date}T00:00:00+07:00`);
}

const BUS_BANDS_FROM = localMidnight('2024-11-01');
/** UNCONFIRMED: the month of the metro tariff is published, not its day. */
const METRO_TARIFF_FROM = localMidnight('2025-08-01');
/**
 * UNCONFIRMED: the 3,000 + 450 đ/km bus table is published but its start is not; we take the start
 * of the network-wide account-based system (25 Jun 2026), which brought tap-out on buses.
 */
const BUS_DISTANCE_FROM = localMidnight('2026-06-25');

const METRO_DISTANCE = {
  id: 'metro-distance',
  modes: ['metro'],
  lineIds: null,
  method: 'distance',
  baseAmount: 8_000,
  perKmAmount: 850,
  minAmount: null,
  maxAmount: null,
  cashRoundingUnit: 1_000,
} as const satisfies FareTable['rules'][number];

/** Bus and BRT single trips by route length since 1 Nov 2024: < 15 km, 15–25, 25–30, 30–40, ≥ 40 km. */
const BUS_BANDS: readonly RouteLengthBand[] = [
  { minLengthM: 0, amount: 8_000 },
  { minLengthM: 15_000, amount: 10_000 },
  { minLengthM: 25_000, amount: 12_000 },
  { minLengthM: 30_000, amount: 15_000 },
  { minLengthM: 40_000, amount: 20_000 },
];

const BUS_BY_ROUTE_LENGTH = {
  id: 'bus-route-length',
  modes: ['bus', 'brt'],
  lineIds: null,
  method: 'route_length_bands',
  bands: BUS_BANDS,
  cashRoundingUnit: 1_000,
} as const satisfies FareTable['rules'][number];

export const HANOI_FARE_TABLES: readonly FareTable[] = [
  { id: 'hanoi-2024-11-01', effectiveFrom: BUS_BANDS_FROM, freeRiderCategories: FREE_RIDER_CATEGORIES, rules: [BUS_BY_ROUTE_LENGTH] },
  { id: 'hanoi-2025-08-01', effectiveFrom: METRO_TARIFF_FROM, freeRiderCategories: FREE_RIDER_CATEGORIES, rules: [METRO_DISTANCE, BUS_BY_ROUTE_LENGTH] },
  {
    id: 'hanoi-2026-06-25',
    effectiveFrom: BUS_DISTANCE_FROM,
    freeRiderCategories: FREE_RIDER_CATEGORIES,
    rules: [
      METRO_DISTANCE,
      {
        id: 'bus-distance',
        modes: ['bus', 'brt'],
        lineIds: null,
        method: 'distance',
        baseAmount: 3_000,
        perKmAmount: 450,
        // Published range 4,350 … 32,000: a 3 km minimum and a ceiling.
        minAmount: 4_350,
        maxAmount: 32_000,
        cashRoundingUnit: 1_000,
      },
    ],
  },
];

/** Every rider category's price: the free groups pay nothing; priority pays `priority` (default: adult). */
function prices(adult: number, priority: number = adult): Record<RiderCategory, number> {
  const result = { adult, priority } as Record<RiderCategory, number>;
  for (const category of FREE_RIDER_CATEGORIES) result[category] = 0;
  return result;
}

type ProductSeed = Omit<ProductVersion, 'versionId' | 'effectiveFrom' | 'onSale' | 'singleLine' | 'lineIds' | 'payAsYouGoCap'> &
  Partial<Pick<ProductVersion, 'singleLine' | 'payAsYouGoCap'>>;

const BUS: ProductVersion['modes'] = ['bus', 'brt'];
const BUS_METRO: ProductVersion['modes'] = ['metro', 'bus', 'brt'];

function product(effectiveFrom: number, seed: ProductSeed): ProductVersion {
  return {
    singleLine: false,
    payAsYouGoCap: null,
    ...seed,
    lineIds: null,
    onSale: true,
    effectiveFrom,
    versionId: `${seed.productId}@${new Date(effectiveFrom).toISOString()}`,
  };
}

export const HANOI_PRODUCTS: readonly ProductVersion[] = [
  product(METRO_TARIFF_FROM, { productId: 'metro-single', name: 'Metro single trip', kind: 'single', modes: ['metro'], validityDays: null, prices: null }),
  product(BUS_BANDS_FROM, { productId: 'bus-single', name: 'Bus single trip', kind: 'single', modes: BUS, validityDays: null, prices: null }),
  product(METRO_TARIFF_FROM, { productId: 'metro-day', name: 'Metro day pass', kind: 'pass', modes: ['metro'], validityDays: 1, prices: prices(40_000), payAsYouGoCap: 'day' }),
  product(METRO_TARIFF_FROM, { productId: 'metro-week', name: 'Metro week pass', kind: 'pass', modes: ['metro'], validityDays: 7, prices: prices(160_000), payAsYouGoCap: 'week' }),
  product(METRO_TARIFF_FROM, { productId: 'metro-month', name: 'Metro month pass', kind: 'pass', modes: ['metro'], validityDays: 30, prices: prices(280_000, 140_000) }),
  product(METRO_TARIFF_FROM, { productId: 'bus-day', name: 'Bus day pass', kind: 'pass', modes: BUS, validityDays: 1, prices: prices(30_000), payAsYouGoCap: 'day' }),
  product(METRO_TARIFF_FROM, { productId: 'bus-week', name: 'Bus week pass', kind: 'pass', modes: BUS, validityDays: 7, prices: prices(120_000), payAsYouGoCap: 'week' }),
  product(METRO_TARIFF_FROM, {
    productId: 'bus-month-single-route',
    name: 'Bus month pass, single route',
    kind: 'pass',
    modes: BUS,
    singleLine: true,
    validityDays: 30,
    prices: prices(140_000, 70_000),
  }),
  product(METRO_TARIFF_FROM, { productId: 'bus-month-inter-route', name: 'Bus month pass, inter-route', kind: 'pass', modes: BUS, validityDays: 30, prices: prices(280_000, 140_000) }),
  product(METRO_TARIFF_FROM, { productId: 'bus-metro-day', name: 'Bus + metro day pass', kind: 'pass', modes: BUS_METRO, validityDays: 1, prices: prices(50_000), payAsYouGoCap: 'day' }),
  product(METRO_TARIFF_FROM, { productId: 'bus-metro-week', name: 'Bus + metro week pass', kind: 'pass', modes: BUS_METRO, validityDays: 7, prices: prices(200_000), payAsYouGoCap: 'week' }),
  // UNCONFIRMED: the priority price is published as "~235,000".
  product(METRO_TARIFF_FROM, { productId: 'bus-metro-month', name: 'Bus + metro month pass', kind: 'pass', modes: BUS_METRO, validityDays: 30, prices: prices(500_000, 235_000) }),
  product(METRO_TARIFF_FROM, {
    productId: 'bus-12-month-single-route',
    name: 'Bus 12-month pass, single route',
    kind: 'pass',
    modes: BUS,
    singleLine: true,
    validityDays: 365,
    prices: prices(1_580_000, 790_000),
  }),
  product(METRO_TARIFF_FROM, {
    productId: 'bus-12-month-inter-route',
    name: 'Bus 12-month pass, inter-route',
    kind: 'pass',
    modes: BUS,
    validityDays: 365,
    prices: prices(3_158_000, 1_580_000),
  }),
  product(METRO_TARIFF_FROM, {
    productId: 'bus-metro-12-month',
    name: 'Bus + metro 12-month pass',
    kind: 'pass',
    modes: BUS_METRO,
    validityDays: 365,
    prices: prices(5_640_000, 2_820_000),
  }),
  product(METRO_TARIFF_FROM, { productId: 'pay-as-you-go', name: 'Pay as you go (stored value, capped)', kind: 'stored_value', modes: BUS_METRO, validityDays: null, prices: null }),
];

/** Stations inside Ring Road 1 (Vành đai 1). ESTIMATED membership: check against the city's map. */
export const HANOI_ZONES: ReadonlyArray<FareZone & { estimated: boolean }> = [
  { id: 'ring-road-1', name: 'Inside Ring Road 1', stationIds: ['2a-cat-linh', 'brt01-kim-ma', 'brt01-giang-vo'], estimated: true },
];

export const HANOI_WAIVERS: readonly FareWaiver[] = [
  waiver('national-day-2025', 'National Day 2025: all riders free', '2025-08-30', '2025-09-03'),
  waiver('tet-2026', 'Tết 2026: all riders free', '2026-02-14', '2026-02-23'),
  { ...waiver('ring-road-1-2026', 'Trips inside Ring Road 1 free', '2026-07-01', '2027-07-01'), zoneId: 'ring-road-1' },
];

/** All riders free from local midnight of `from` until local midnight of `until` (exclusive). */
function waiver(id: string, name: string, from: string, until: string): FareWaiver {
  return { id, name, startsAt: localMidnight(from), endsAt: localMidnight(until), lineIds: null, modes: null, riderCategories: null, zoneId: null };
}
