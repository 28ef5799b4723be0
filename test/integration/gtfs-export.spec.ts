import { parse } from 'csv-parse/sync';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportGtfsFares } from '../../src/cli/gtfs-export';
import { testConfig } from '../support/test-app';

type Row = Record<string, string>;

/** The export of the seeded catalogue, parsed back from the files as a trip planner would read them. */
describe('GTFS-Fares v2 export', () => {
  // Under the bus distance table, inside the Ring Road 1 waiver.
  const at = Date.parse('2026-08-01T00:00:00+07:00');
  let dir: string;
  let feed: Record<string, Row[]>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gtfs-fares-'));
    await exportGtfsFares(testConfig().database.url, dir, at);
    feed = Object.fromEntries(readdirSync(dir).map((name) => [name, parse<Row>(readFileSync(join(dir, name)), { columns: true })]));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const fareOf = (productId: string, category: string, media: string) =>
    feed['fare_products.txt'].find((row) => row.fare_product_id === productId && row.rider_category_id === category && row.fare_media_id === media)?.amount;
  const baseRule = (network: string, from: string, to: string) =>
    feed['fare_leg_rules.txt'].find((row) => row.network_id === network && row.from_area_id === from && row.to_area_id === to && row.rule_priority === '0');

  it('writes every file the standard names', () => {
    expect(Object.keys(feed)).toEqual(
      expect.arrayContaining([
        'fare_media.txt',
        'fare_products.txt',
        'rider_categories.txt',
        'fare_leg_rules.txt',
        'areas.txt',
        'stop_areas.txt',
        'networks.txt',
        'timeframes.txt',
      ]),
    );
    expect(feed['rider_categories.txt'].filter((row) => row.is_default_fare_category === '1').map((row) => row.rider_category_id)).toEqual(['adult']);
  });

  it('prices each trip as the fare engine does, electronic and cash', () => {
    const metro = baseRule('metro-2a', '2a-cat-linh', '2a-yen-nghia')!;
    expect(fareOf(metro.fare_product_id, 'adult', 'app-qr')).toBe('18625');
    expect(fareOf(metro.fare_product_id, 'adult', 'cash')).toBe('19000');
    expect(fareOf(metro.fare_product_id, 'elderly', 'app-qr')).toBe('0');
    expect(fareOf(baseRule('metro-3', '3-nhon', '3-cau-giay')!.fare_product_id, 'priority', 'cemv')).toBe('14290');
    // Bus 32, Giáp Bát → Xã Đàn (5.1 km) under the distance table: 3,000 + 2,295.
    expect(fareOf(baseRule('bus-32', '32-ben-xe-giap-bat', '32-xa-dan')!.fare_product_id, 'adult', 'app-qr')).toBe('5295');
  });

  it('lists the passes with their prices per rider category', () => {
    expect(fareOf('bus-metro-12-month', 'adult', 'citizen-id')).toBe('5640000');
    expect(fareOf('bus-metro-12-month', 'priority', 'app-qr')).toBe('2820000');
    expect(fareOf('bus-month-single-route', 'priority', 'app-qr')).toBe('70000');
  });

  it('gives the Ring Road 1 waiver its own higher-priority rules, limited to its dates', () => {
    const waived = feed['fare_leg_rules.txt'].filter((row) => row.from_timeframe_group_id === 'ring-road-1-2026');
    expect(waived.length).toBeGreaterThan(0);
    expect(waived.every((row) => row.rule_priority === '1')).toBe(true);
    // Only trips between stations inside the ring: on BRT01, and Cát Linh to itself on 2A.
    expect(new Set(waived.map((row) => row.network_id))).toEqual(new Set(['brt01', 'metro-2a']));
    const inside = waived.find((row) => row.from_area_id === 'brt01-kim-ma' && row.to_area_id === 'brt01-giang-vo')!;
    expect(fareOf(inside.fare_product_id, 'adult', 'app-qr')).toBe('0');
    const timeframes = feed['timeframes.txt'].filter((row) => row.timeframe_group_id === 'ring-road-1-2026');
    expect(timeframes).toEqual([{ timeframe_group_id: 'ring-road-1-2026', start_time: '00:00:00', end_time: '24:00:00', service_id: 'ring-road-1-2026' }]);
    const dates = feed['calendar_dates.txt'].filter((row) => row.service_id === 'ring-road-1-2026').map((row) => row.date);
    expect(dates).toHaveLength(365);
    expect([dates[0], dates[dates.length - 1]]).toEqual(['20260701', '20270630']);
    // Holidays that ended before the export are not published.
    expect(feed['timeframes.txt'].some((row) => row.timeframe_group_id === 'tet-2026')).toBe(false);
  });

  it('refers only to things it defines', () => {
    const ids = (file: string, column: string) => new Set(feed[file].map((row) => row[column]));
    const [products, areas, networks, media, categories, timeframes] = [
      ids('fare_products.txt', 'fare_product_id'),
      ids('areas.txt', 'area_id'),
      ids('networks.txt', 'network_id'),
      ids('fare_media.txt', 'fare_media_id'),
      ids('rider_categories.txt', 'rider_category_id'),
      ids('timeframes.txt', 'timeframe_group_id'),
    ];
    const dangling = [
      ...feed['fare_leg_rules.txt'].filter(
        (rule) =>
          !products.has(rule.fare_product_id) ||
          !networks.has(rule.network_id) ||
          !areas.has(rule.from_area_id) ||
          !areas.has(rule.to_area_id) ||
          (rule.from_timeframe_group_id !== '' && !timeframes.has(rule.from_timeframe_group_id)),
      ),
      ...feed['fare_products.txt'].filter(
        (row) => !media.has(row.fare_media_id) || !categories.has(row.rider_category_id) || !/^\d+$/.test(row.amount ?? '') || row.currency !== 'VND',
      ),
      ...feed['stop_areas.txt'].filter((row) => !areas.has(row.area_id)),
    ];
    expect(dangling).toEqual([]);
    // Every ordered pair of stations of every line has exactly one base rule.
    const stationCount = feed['stop_areas.txt'].filter((row) => row.area_id === row.stop_id).length;
    expect(stationCount).toBe(12 + 8 + 21 + 12 + 10);
    expect(feed['fare_leg_rules.txt'].filter((row) => row.rule_priority === '0')).toHaveLength(12 ** 2 + 8 ** 2 + 21 ** 2 + 12 ** 2 + 10 ** 2);
  });
});
