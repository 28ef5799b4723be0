import { FareCalculator } from '../domain/fare-calculator';
import type { FareSnapshot } from '../domain/fare-model';
import { FREE_RIDER_CATEGORIES } from '../rider-category';
import { buildGtfsFares, gtfsCsv } from './gtfs-fares';

const snapshot: FareSnapshot = {
  lines: [
    {
      id: 'm1',
      code: 'M1',
      name: 'Metro 1',
      mode: 'metro',
      operatorId: 'hmc',
      stations: [
        { id: 'a', name: 'A', positionM: 0 },
        { id: 'b', name: 'B', positionM: 1_000 },
      ],
    },
  ],
  zones: [{ id: 'centre', name: 'Centre', stationIds: ['a'] }],
  fareTables: [
    {
      id: 't',
      effectiveFrom: 0,
      freeRiderCategories: FREE_RIDER_CATEGORIES,
      rules: [{ id: 'm', modes: ['metro'], lineIds: null, method: 'distance', baseAmount: 8_000, perKmAmount: 850, minAmount: null, maxAmount: null, cashRoundingUnit: 1_000 }],
    },
  ],
  products: [],
  waivers: [
    {
      id: 'students-evening',
      name: 'Priority riders free, 18:00 on 1 Jul to 06:00 on 4 Jul 2030',
      startsAt: Date.parse('2030-07-01T18:00:00+07:00'),
      endsAt: Date.parse('2030-07-04T06:00:00+07:00'),
      lineIds: null,
      modes: null,
      riderCategories: ['priority'],
      zoneId: null,
    },
    { id: 'ended', name: 'Over', startsAt: 0, endsAt: 1_000, lineIds: null, modes: null, riderCategories: null, zoneId: 'centre' },
  ],
};

describe('buildGtfsFares', () => {
  const files = buildGtfsFares(new FareCalculator(snapshot), Date.parse('2030-06-01T00:00:00+07:00'));
  const rows = (name: string) => files.get(name)?.rows ?? [];

  it('splits a waiver that starts and ends mid-day into its partial and whole local days', () => {
    expect(rows('timeframes.txt').filter((row) => row.timeframe_group_id === 'students-evening')).toEqual([
      { timeframe_group_id: 'students-evening', start_time: '18:00:00', end_time: '24:00:00', service_id: 'students-evening-first' },
      { timeframe_group_id: 'students-evening', start_time: '00:00:00', end_time: '24:00:00', service_id: 'students-evening' },
      { timeframe_group_id: 'students-evening', start_time: '00:00:00', end_time: '06:00:00', service_id: 'students-evening-last' },
    ]);
    expect(rows('calendar_dates.txt').filter((row) => row.service_id.startsWith('students')).map((row) => `${row.service_id} ${row.date}`)).toEqual([
      'students-evening-first 20300701',
      'students-evening 20300702',
      'students-evening 20300703',
      'students-evening-last 20300704',
    ]);
  });

  it('prices a rider-category waiver as free for that category only', () => {
    const rule = rows('fare_leg_rules.txt').find((row) => row.from_timeframe_group_id === 'students-evening' && row.from_area_id === 'a' && row.to_area_id === 'b');
    const amount = (category: string, media: string) =>
      rows('fare_products.txt').find((row) => row.fare_product_id === rule?.fare_product_id && row.rider_category_id === category && row.fare_media_id === media)?.amount;
    expect(rule?.rule_priority).toBe('1');
    expect([amount('priority', 'app-qr'), amount('adult', 'app-qr'), amount('adult', 'cash'), amount('child', 'cash')]).toEqual(['0', '8850', '9000', '0']);
  });

  it('gives each fare-table version in force its own timeframe over the feed', () => {
    const later = buildGtfsFares(
      new FareCalculator({ ...snapshot, fareTables: [...snapshot.fareTables, { ...snapshot.fareTables[0], id: 'u', effectiveFrom: Date.parse('2030-06-10T00:00:00+07:00') }] }),
      Date.parse('2030-06-01T00:00:00+07:00'),
      { days: 30 },
    );
    const days = (service: string) => (later.get('calendar_dates.txt')?.rows ?? []).filter((row) => row.service_id === service).map((row) => row.date);
    expect([days('tariff-t')[0], days('tariff-t').pop(), days('tariff-u')[0], days('tariff-u').pop()]).toEqual(['20300601', '20300609', '20300610', '20300630']);
    expect(later.get('feed_info.txt')?.rows[0]).toMatchObject({ feed_start_date: '20300601', feed_end_date: '20300630' });
  });

  it('escapes cells a spreadsheet would read as formulas', () => {
    expect(gtfsCsv({ columns: ['a', 'b', 'c'], rows: [{ a: '=HYPERLINK("x")', b: '-5', c: '@x' }] })).toBe('a,b,c\r\n"\'=HYPERLINK(""x"")",-5,\'@x\r\n');
  });

  it('leaves out waivers that have ended', () => {
    expect(rows('fare_leg_rules.txt').some((row) => row.leg_group_id === 'ended')).toBe(false);
    expect(rows('fare_leg_rules.txt')).toHaveLength(4 + 4);
  });
});
