import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { buildGtfsFeedZip, loadBaseFeed } from '../../src/cli/gtfs-export';
import { localDateAt } from '../../src/fares/domain/local-time';
import type { FareQuoteDto } from '../../src/fares/fares.dto';
import { bearerFor } from '../support/auth';
import { gtfsLegFare, gtfsProblems, readFeed, type Feed, type Row } from '../support/gtfs';
import { binaryBody, expectError, useTestApp } from '../support/http';
import { testConfig } from '../support/test-app';

interface Line {
  id: string;
  code: string;
  operatorId: string;
  stations: Array<{ id: string; name: string }>;
}

const csv = (rows: Row[]) => {
  const columns = Object.keys(rows[0] ?? {});
  return [columns.join(','), ...rows.map((row) => columns.map((column) => row[column]).join(','))].join('\r\n');
};

/**
 * The exported feed checked against the GTFS reference's rules, then priced as a trip planner that
 * honours rule_priority would price it, for every station pair on dates before and after each
 * tariff change and on waiver days, against GET /v1/fares/quote.
 */
describe('GTFS export with Fares v2', () => {
  const { app, http } = useTestApp();
  // Fares in force from 1 Jul 2025 for 400 days: the Aug 2025 metro tariff, National Day 2025,
  // Tết 2026, the 25 Jun 2026 bus tariff and the Ring Road 1 waiver all fall inside.
  const at = Date.parse('2025-07-01T00:00:00+07:00');
  let lines: Line[];
  let dir: string;
  let fareFeed: Feed;
  let merged: Feed;

  beforeAll(async () => {
    const list = (await http().get('/v1/lines').expect(200)).body as Array<{ id: string }>;
    lines = await Promise.all(list.map(async (line) => (await http().get(`/v1/lines/${line.id}`).expect(200)).body as Line));
    dir = mkdtempSync(join(tmpdir(), 'gtfs-'));
    fareFeed = readFeed((await buildGtfsFeedZip(testConfig().database.url, at, { days: 400 })).zip);

    // An operator base feed of its own ids (a test fixture: stops on made-up coordinates, one trip
    // per line), and the id-mapping table kept beside it.
    const stops: Row[] = [];
    const stopTimes: Row[] = [];
    const map: Row[] = [];
    lines.forEach((line, lineIndex) => {
      map.push({ kind: 'route', our_id: line.id, feed_id: `R${lineIndex}` });
      line.stations.forEach((station, index) => {
        stops.push({ stop_id: `S${lineIndex}-${index}`, stop_name: station.name.replace(/,/g, ' '), stop_lat: (21 + lineIndex * 0.01).toFixed(5), stop_lon: (105.8 + index * 0.002).toFixed(5) });
        map.push({ kind: 'stop', our_id: station.id, feed_id: `S${lineIndex}-${index}` });
        const clock = `06:${String(index * 2).padStart(2, '0')}:00`;
        stopTimes.push({ trip_id: `T${lineIndex}`, arrival_time: clock, departure_time: clock, stop_id: `S${lineIndex}-${index}`, stop_sequence: String(index + 1) });
      });
    });
    const base = {
      'agency.txt': csv([...new Set(lines.map((line) => line.operatorId))].map((id) => ({ agency_id: id, agency_name: id, agency_url: 'https://example.org', agency_timezone: 'Asia/Ho_Chi_Minh' }))),
      'stops.txt': csv(stops),
      'routes.txt': csv(lines.map((line, index) => ({ route_id: `R${index}`, agency_id: line.operatorId, route_short_name: line.code, route_type: '3' }))),
      'trips.txt': csv(lines.map((_, index) => ({ route_id: `R${index}`, service_id: 'daily', trip_id: `T${index}` }))),
      'stop_times.txt': csv(stopTimes),
      'calendar.txt': csv([{ service_id: 'daily', monday: '1', tuesday: '1', wednesday: '1', thursday: '1', friday: '1', saturday: '1', sunday: '1', start_date: '20250701', end_date: '20260804' }]),
    };
    writeFileSync(join(dir, 'base.zip'), zipSync(Object.fromEntries(Object.entries(base).map(([name, text]) => [name, strToU8(text)]))));
    writeFileSync(join(dir, 'id-map.csv'), csv(map));
    merged = readFeed((await buildGtfsFeedZip(testConfig().database.url, at, { days: 400, base: loadBaseFeed(join(dir, 'base.zip'), join(dir, 'id-map.csv')) })).zip);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('merged into an operator base feed, meets the reference rules', () => {
    expect(gtfsProblems(merged)).toEqual([]);
    expect(merged.get('feed_info.txt')).toEqual([expect.objectContaining({ feed_start_date: '20250701', feed_end_date: '20260804' })]);
  });

  it('without a base feed, has agency, stops and routes from the network and says it has no schedule', () => {
    const problems = gtfsProblems(fareFeed);
    // What only an operator feed can give: trips, their stop times, and stop coordinates.
    expect(problems.filter((problem) => !/stop_lat|stop_lon/.test(problem))).toEqual(['trips.txt is required', 'stop_times.txt is required']);
    expect(fareFeed.get('agency.txt')!.map((row) => row.agency_id).sort()).toEqual(['hmc', 'transerco', 'vinbus']);
    expect(fareFeed.get('routes.txt')).toHaveLength(lines.length);
    expect(fareFeed.get('stops.txt')).toHaveLength(lines.reduce((total, line) => total + line.stations.length, 0));
    expect(fareFeed.get('feed_info.txt')![0].feed_version).toMatch(/no schedule/);
    expect(fareFeed.has('frequencies.txt')).toBe(false);
  });

  it('encodes each tariff period as its own timeframe, the 25 Jun 2026 bus tariff included', () => {
    const groups = new Set(merged.get('timeframes.txt')!.map((row) => row.timeframe_group_id));
    expect(groups).toEqual(new Set(['tariff-hanoi-2024-11-01', 'tariff-hanoi-2025-08-01', 'tariff-hanoi-2026-06-25', 'national-day-2025', 'tet-2026', 'ring-road-1-2026']));
    const days = (group: string) => merged.get('calendar_dates.txt')!.filter((row) => row.service_id === group).map((row) => row.date);
    expect([days('tariff-hanoi-2026-06-25')[0], days('tariff-hanoi-2025-08-01').pop()]).toEqual(['20260625', '20260624']);
    // Nothing before the feed starts.
    expect(merged.get('calendar_dates.txt')!.every((row) => row.date >= '20250701' && row.date <= '20260804')).toBe(true);
  });

  it('reaches every product on sale by a rule, or lists it as not expressible with why', async () => {
    const onSale = ((await http().get('/v1/products').query({ at: '2025-07-01T00:00:00+07:00' }).expect(200)).body as Array<{ id: string; kind: string }>).filter((product) => product.kind !== 'single');
    const listed = merged.get('unexpressed_fare_products.txt')!;
    expect(listed.map((row) => row.fare_product_id).sort()).toEqual(onSale.map((product) => product.id).sort());
    expect(listed.every((row) => row.reason.length > 20)).toBe(true);
    const ruled = new Set(merged.get('fare_leg_rules.txt')!.map((row) => row.fare_product_id));
    expect(merged.get('fare_products.txt')!.every((row) => ruled.has(row.fare_product_id))).toBe(true);
  });

  it.each([
    ['2025-07-20', 'before the Aug 2025 metro tariff'],
    ['2025-08-05', 'after the Aug 2025 metro tariff'],
    ['2025-08-31', 'National Day 2025 waiver'],
    ['2026-02-16', 'Tết 2026 waiver'],
    ['2026-06-20', 'before the 25 Jun 2026 bus tariff'],
    ['2026-06-26', 'after the 25 Jun 2026 bus tariff'],
    ['2026-07-10', 'Ring Road 1 waiver'],
  ])('prices every station pair on %s (%s) as GET /v1/fares/quote does', async (date) => {
    const instant = `${date}T10:00:00+07:00`;
    expect(localDateAt(Date.parse(instant))).toBe(date);
    const stopOf = new Map(merged.get('stop_areas.txt')!.map((row) => [row.area_id, row.stop_id]));
    const routeOf = new Map(lines.map((line, index) => [line.id, `R${index}`]));
    const mismatches: string[] = [];
    let compared = 0;
    let priced = 0;
    for (const line of lines) {
      for (const from of line.stations) {
        for (const to of line.stations) {
          const response = await http().get('/v1/fares/quote').query({ from: from.id, to: to.id, at: instant });
          // No fare rule in force for the line (metro before its Aug 2025 tariff): no leg rule either.
          const quote = response.status === 422 ? { amount: undefined, cashAmount: undefined } : (response.body as FareQuoteDto);
          if (response.status !== 200 && response.status !== 422) throw new Error(`quote ${response.status}`);
          const leg = { routeId: routeOf.get(line.id)!, fromStopId: stopOf.get(from.id)!, toStopId: stopOf.get(to.id)!, localDate: date.replace(/-/g, ''), localTime: '10:00:00', riderCategory: 'adult' };
          const [electronic, cash] = [gtfsLegFare(merged, { ...leg, media: 'app-qr' }), gtfsLegFare(merged, { ...leg, media: 'cash' })];
          compared += 1;
          if (electronic !== undefined) priced += 1;
          if (electronic !== quote.amount || cash !== quote.cashAmount) mismatches.push(`${from.id}→${to.id}: feed ${electronic}/${cash}, quote ${quote.amount}/${quote.cashAmount}`);
        }
      }
    }
    expect(compared).toBe(lines.reduce((total, line) => total + line.stations.length ** 2, 0));
    expect(mismatches).toEqual([]);
    expect(priced).toBeGreaterThan(compared / 2);
  });

  it('prices rider categories as the quote does', async () => {
    const line = lines.find((candidate) => candidate.id === 'metro-2a')!;
    const stopOf = new Map(merged.get('stop_areas.txt')!.map((row) => [row.area_id, row.stop_id]));
    for (const riderCategory of ['priority', 'elderly', 'child']) {
      for (const to of line.stations) {
        const from = line.stations[0];
        const quote = (await http().get('/v1/fares/quote').query({ from: from.id, to: to.id, at: '2026-06-26T10:00:00+07:00', riderCategory }).expect(200)).body as FareQuoteDto;
        const fare = gtfsLegFare(merged, { routeId: `R${lines.indexOf(line)}`, fromStopId: stopOf.get(from.id)!, toStopId: stopOf.get(to.id)!, localDate: '20260626', localTime: '10:00:00', riderCategory, media: 'cemv' });
        expect([riderCategory, to.id, fare]).toEqual([riderCategory, to.id, quote.amount]);
      }
    }
  });

  it('serves the feed over HTTP to admins and operators only', async () => {
    const admin = await bearerFor(app(), 'admin');
    const response = await http()
      .get('/v1/gtfs/feed.zip')
      .set('Authorization', admin)
      .query({ at: '2026-07-01T00:00:00+07:00', days: 30 })
      .buffer(true)
      .parse(binaryBody)
      .expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/zip/);
    const feed = readFeed(response.body as Buffer);
    expect(feed.get('feed_info.txt')).toEqual([expect.objectContaining({ feed_start_date: '20260701', feed_end_date: '20260730' })]);
    expectError(await http().get('/v1/gtfs/feed.zip').set('Authorization', await bearerFor(app(), 'passenger')), 403, 'FORBIDDEN');
    expectError(await http().get('/v1/gtfs/feed.zip'), 401, 'UNAUTHENTICATED');
  });
});
