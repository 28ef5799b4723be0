import { stringify } from 'csv-stringify/sync';
import { strToU8, zipSync } from 'fflate';
import { FareCalculator } from '../domain/fare-calculator';
import type { FareTable, FareWaiver, NetworkLine } from '../domain/fare-model';
import { compactLocalDate, localDayNumber, localDayStartMs } from '../domain/local-time';
import { RIDER_CATEGORIES, type RiderCategory } from '../rider-category';
import { safeCsvCell } from './csv-cell';

/**
 * A GTFS feed with Fares v2 (https://gtfs.org/schedule/reference/, revision of 2024 with
 * fare_media, rider_categories, timeframes and rule_priority) for trip planners, valid from the
 * local day of `at` for `days` days.
 *
 * - Network: agency.txt from the operators, routes.txt from the lines, stops.txt from the stations
 *   (our ids). With an operator base feed (`base`), its agency/stops/routes/trips/stop_times/calendar
 *   files are kept as they are and our fares refer to its ids through a mapping table (station id →
 *   stop_id, line id → route_id) kept as data. Without one there are no trips: we publish no
 *   headways, so no frequencies.txt either, and feed_info.txt says the feed is fares and network only.
 * - Each line is a network (route_networks.txt), each station an area (stop_areas.txt).
 * - Single trips: one fare leg rule per ordered station pair of a line and per tariff period (each
 *   fare-table version in force during the feed is its own timeframe, over the local days it is in
 *   force), pointing at a fare product that holds the price for every rider category, electronic
 *   media at the electronic fare and cash at the cash fare.
 * - Waivers: leg rules with rule_priority 1 limited to a timeframe whose service is the waiver's
 *   local days (rules without priority tie otherwise).
 * - Passes and stored value are not expressible as leg rules (GTFS-Fares v2 has no "valid for N
 *   days" nor stored value): they are left out of fare_products.txt and listed, with why, in
 *   `unexpressed_fare_products.txt` (an extra file, ignored by consumers that do not know it).
 * - feed_info.txt: start and end dates of the feed; the fare-table versions are in timeframes.
 */

export const GTFS_SPEC_VERSION = 'GTFS Schedule reference (gtfs.org, revised 2024-10) with Fares v2';
export const GTFS_TIMEZONE = 'Asia/Ho_Chi_Minh';

export interface GtfsOperator {
  readonly id: string;
  readonly name: string;
  readonly shortName: string;
}

/** An operator's own GTFS (files by name) and how our ids map onto its ids. */
export interface GtfsBaseFeed {
  readonly files: ReadonlyMap<string, GtfsFile>;
  /** Our station id → its stop_id. */
  readonly stopIdOf: ReadonlyMap<string, string>;
  /** Our line id → its route_id. */
  readonly routeIdOf: ReadonlyMap<string, string>;
}

export interface GtfsExportOptions {
  readonly operators?: readonly GtfsOperator[];
  /** How many local days from `at` the feed covers (default 365). */
  readonly days?: number;
  readonly base?: GtfsBaseFeed;
}

/** Public web sites of the seeded operators (agency_url is required). */
const AGENCY_URLS: Record<string, string> = {
  hmc: 'https://hanoimetro.net.vn',
  transerco: 'https://transerco.vn',
  vinbus: 'https://vinbus.vn',
};
const DEFAULT_AGENCY_URL = 'https://hanoimetro.net.vn';
const ROUTE_TYPES: Record<NetworkLine['mode'], string> = { metro: '1', brt: '3', bus: '3' };
const BASE_FILES = ['agency.txt', 'stops.txt', 'routes.txt', 'trips.txt', 'stop_times.txt', 'calendar.txt', 'calendar_dates.txt', 'frequencies.txt', 'shapes.txt', 'transfers.txt', 'pathways.txt', 'levels.txt'];

export interface GtfsFile {
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<Readonly<Record<string, string>>>;
}

const MEDIA = [
  { fare_media_id: 'cash', fare_media_name: 'Cash', fare_media_type: '0' },
  { fare_media_id: 'paper-qr', fare_media_name: 'QR ticket from the counter', fare_media_type: '1' },
  { fare_media_id: 'citizen-id', fare_media_name: 'Chip citizen ID card (CCCD)', fare_media_type: '2' },
  { fare_media_id: 'cemv', fare_media_name: 'Contactless bank card', fare_media_type: '3' },
  { fare_media_id: 'app-qr', fare_media_name: 'Liên Thông app QR', fare_media_type: '4' },
];
const TRIP_MEDIA = ['paper-qr', 'citizen-id', 'cemv', 'app-qr'];

const RIDER_CATEGORY_NAMES: Record<RiderCategory, string> = {
  adult: 'Adult',
  priority: 'Priority (students, industrial-park workers)',
  elderly: 'Aged 60 and over',
  disabled: 'People with disabilities',
  meritorious: 'People with meritorious service',
  poor_household: 'Members of poor households',
  child: 'Children under 6',
};

const FARE_PRODUCT_COLUMNS = ['fare_product_id', 'fare_product_name', 'rider_category_id', 'fare_media_id', 'amount', 'currency'];
const LEG_RULE_COLUMNS = ['leg_group_id', 'network_id', 'from_area_id', 'to_area_id', 'from_timeframe_group_id', 'to_timeframe_group_id', 'fare_product_id', 'rule_priority'];

/** Builds every file, in memory, from the fare data of a calculator. */
export function buildGtfsFares(calculator: FareCalculator, at: number, options: GtfsExportOptions = {}): Map<string, GtfsFile> {
  const { snapshot } = calculator;
  const baseFares = new FareCalculator({ ...snapshot, waivers: [] });
  const products = new Map<string, Array<Record<string, string>>>();
  const legRules: Array<Record<string, string>> = [];
  const timeframes: Array<Record<string, string>> = [];
  const calendarDates: Array<Record<string, string>> = [];
  const firstDay = localDayNumber(at);
  const endDay = firstDay + (options.days ?? 365); // exclusive
  const feedEnd = localDayStartMs(endDay);
  const stopId = (stationId: string) => options.base?.stopIdOf.get(stationId) ?? stationId;
  const routeId = (lineId: string) => options.base?.routeIdOf.get(lineId) ?? lineId;

  /** The single-trip product for these per-category fares, created the first time it is needed. */
  const tripProduct = (quoteFor: (category: RiderCategory) => { amount: number; cashAmount: number }): string => {
    const fares = RIDER_CATEGORIES.map((category) => ({ category, ...quoteFor(category) }));
    const id = `trip-${fares.map((fare) => `${fare.amount}`).join('-')}-cash-${fares.map((fare) => `${fare.cashAmount}`).join('-')}`;
    if (!products.has(id)) {
      const name = `Single trip ${fares[0]?.amount ?? 0} VND`;
      products.set(
        id,
        fares.flatMap((fare) => [
          ...TRIP_MEDIA.map((media) => productRow(id, name, fare.category, media, fare.amount)),
          productRow(id, name, fare.category, 'cash', fare.cashAmount),
        ]),
      );
    }
    return id;
  };
  const addTimeframes = (group: string, pieces: TimeframePiece[]) => {
    for (const piece of pieces) {
      const days = piece.days.filter((day) => day >= firstDay && day < endDay);
      if (days.length === 0) continue;
      timeframes.push({ timeframe_group_id: group, start_time: piece.startTime, end_time: piece.endTime, service_id: piece.serviceId });
      for (const day of days) calendarDates.push({ service_id: piece.serviceId, date: compactLocalDate(day), exception_type: '1' });
    }
  };

  // Each fare-table version in force during the feed, over the part of the feed it is in force.
  for (const period of tariffPeriods(snapshot.fareTables, at, feedEnd)) {
    const group = `tariff-${period.table.id}`;
    for (const line of snapshot.lines) {
      if (!baseFares.coversLine(line.id, period.startsAt)) continue;
      for (const from of line.stations) {
        for (const to of line.stations) {
          const productId = tripProduct((category) => baseFares.quote(line.id, from.id, to.id, category, period.startsAt));
          legRules.push(legRule(line.id, line.id, from.id, to.id, group, productId, '0'));
        }
      }
    }
    addTimeframes(group, periodTimeframes(group, period.startsAt, period.endsAt));
  }

  for (const waiver of snapshot.waivers) {
    if (waiver.endsAt <= at || waiver.startsAt >= feedEnd) continue;
    const onlyThis = new FareCalculator({ ...snapshot, waivers: [waiver] });
    const during = Math.max(at, waiver.startsAt);
    for (const line of linesOf(waiver, snapshot.lines)) {
      if (!onlyThis.coversLine(line.id, during)) continue;
      const zone = waiver.zoneId === null ? null : new Set(snapshot.zones.find((candidate) => candidate.id === waiver.zoneId)?.stationIds ?? []);
      const stations = zone ? line.stations.filter((station) => zone.has(station.id)) : line.stations;
      for (const from of stations) {
        for (const to of stations) {
          const productId = tripProduct((category) => onlyThis.quote(line.id, from.id, to.id, category, during));
          legRules.push(legRule(waiver.id, line.id, from.id, to.id, waiver.id, productId, '1'));
        }
      }
    }
    addTimeframes(waiver.id, periodTimeframes(waiver.id, waiver.startsAt, waiver.endsAt));
  }

  const unexpressed: Array<Record<string, string>> = [];
  for (const version of calculator.productsAt(at)) {
    if (!version.onSale) continue;
    if (version.kind === 'single') continue; // priced by the fare table: the leg rules above
    const reason =
      version.kind === 'pass'
        ? `pass valid ${version.validityDays ?? '?'} days${version.singleLine ? ' on one line chosen at purchase' : ''}: GTFS-Fares v2 leg rules price one leg or transfer and cannot say a product covers every trip for a number of days`
        : 'stored value (wallet): it has no price of its own, trips paid from it cost the single fare above';
    unexpressed.push({ fare_product_id: version.productId, fare_product_name: version.name, reason });
  }

  const usedStations = new Set(legRules.flatMap((rule) => [rule.from_area_id, rule.to_area_id]));
  const stations = snapshot.lines.flatMap((line) => line.stations.map((station) => ({ line, station })));
  const stationAreas = stations.filter(({ station }) => usedStations.has(station.id)).map(({ line, station }) => ({ area_id: station.id, area_name: `${station.name} (${line.code})` }));
  const feedVersionNotes = options.base
    ? 'schedule from the operators\' GTFS'
    : 'fares and network only: no schedule (no trips, no frequencies; headways are not published); stop positions are not known';
  const files = new Map<string, GtfsFile>();
  if (options.base) {
    for (const name of BASE_FILES) {
      const file = options.base.files.get(name);
      if (file) files.set(name, file);
    }
  } else {
    const operators = options.operators ?? [...new Set(snapshot.lines.map((line) => line.operatorId))].map((id) => ({ id, name: id, shortName: id }));
    files.set('agency.txt', {
      columns: ['agency_id', 'agency_name', 'agency_url', 'agency_timezone', 'agency_lang'],
      rows: operators.map((operator) => ({ agency_id: operator.id, agency_name: operator.name, agency_url: AGENCY_URLS[operator.id] ?? DEFAULT_AGENCY_URL, agency_timezone: GTFS_TIMEZONE, agency_lang: 'vi' })),
    });
    files.set('stops.txt', {
      columns: ['stop_id', 'stop_name', 'location_type'],
      rows: stations.map(({ station }) => ({ stop_id: station.id, stop_name: station.name, location_type: '0' })),
    });
    files.set('routes.txt', {
      columns: ['route_id', 'agency_id', 'route_short_name', 'route_long_name', 'route_type'],
      rows: snapshot.lines.map((line) => ({ route_id: line.id, agency_id: line.operatorId, route_short_name: line.code, route_long_name: line.name, route_type: ROUTE_TYPES[line.mode] })),
    });
  }
  const baseCalendarDates = files.get('calendar_dates.txt');
  files.set('calendar_dates.txt', {
    columns: ['service_id', 'date', 'exception_type'],
    rows: [...(baseCalendarDates?.rows ?? []), ...calendarDates],
  });
  files.set('feed_info.txt', {
    columns: ['feed_publisher_name', 'feed_publisher_url', 'feed_lang', 'feed_start_date', 'feed_end_date', 'feed_version'],
    rows: [
      {
        feed_publisher_name: 'Liên Thông (Hà Nội fare management centre)',
        feed_publisher_url: DEFAULT_AGENCY_URL,
        feed_lang: 'vi',
        feed_start_date: compactLocalDate(firstDay),
        feed_end_date: compactLocalDate(endDay - 1),
        feed_version: `fares in force from ${compactLocalDate(firstDay)} (${tariffPeriods(snapshot.fareTables, at, feedEnd).map((period) => period.table.id).join(', ')}); ${feedVersionNotes}`,
      },
    ],
  });
  files.set('networks.txt', { columns: ['network_id', 'network_name'], rows: snapshot.lines.map((line) => ({ network_id: line.id, network_name: line.name })) });
  files.set('route_networks.txt', { columns: ['network_id', 'route_id'], rows: snapshot.lines.map((line) => ({ network_id: line.id, route_id: routeId(line.id) })) });
  files.set('areas.txt', { columns: ['area_id', 'area_name'], rows: stationAreas });
  files.set('stop_areas.txt', { columns: ['area_id', 'stop_id'], rows: stationAreas.map((area) => ({ area_id: area.area_id, stop_id: stopId(area.area_id) })) });
  files.set('rider_categories.txt', {
    columns: ['rider_category_id', 'rider_category_name', 'is_default_fare_category'],
    rows: RIDER_CATEGORIES.map((category) => ({
      rider_category_id: category,
      rider_category_name: RIDER_CATEGORY_NAMES[category],
      is_default_fare_category: category === 'adult' ? '1' : '0',
    })),
  });
  files.set('fare_media.txt', { columns: ['fare_media_id', 'fare_media_name', 'fare_media_type'], rows: MEDIA });
  files.set('fare_products.txt', { columns: FARE_PRODUCT_COLUMNS, rows: [...products.values()].flat() });
  files.set('fare_leg_rules.txt', { columns: LEG_RULE_COLUMNS, rows: legRules });
  files.set('timeframes.txt', { columns: ['timeframe_group_id', 'start_time', 'end_time', 'service_id'], rows: timeframes });
  files.set('unexpressed_fare_products.txt', { columns: ['fare_product_id', 'fare_product_name', 'reason'], rows: unexpressed });
  return files;
}

/** One file as CSV: CRLF, every cell escaped against formula injection. */
export function gtfsCsv(file: GtfsFile): string {
  const rows = file.rows.map((row) => file.columns.map((column) => safeCsvCell(row[column] ?? '')));
  return stringify([[...file.columns], ...rows], { record_delimiter: '\r\n' });
}

/** The feed as a zip, files at its root as GTFS requires. */
export function gtfsZip(files: ReadonlyMap<string, GtfsFile>): Buffer {
  const entries: Record<string, Uint8Array> = {};
  for (const [name, file] of files) entries[name] = strToU8(gtfsCsv(file));
  return Buffer.from(zipSync(entries, { level: 6, mtime: new Date('2026-01-01T00:00:00Z') }));
}

/** Reads a feed's files from a zip (a base feed), every file's rows by column name. */
export function readGtfsZip(unzipped: Record<string, Uint8Array>, parse: (text: string) => Array<Record<string, string>>): Map<string, GtfsFile> {
  const files = new Map<string, GtfsFile>();
  for (const [name, bytes] of Object.entries(unzipped)) {
    if (!name.endsWith('.txt')) continue;
    const text = Buffer.from(bytes).toString('utf8').replace(/^\uFEFF/, '');
    const rows = parse(text);
    const columns = text.split(/\r?\n/, 1)[0]?.split(',').map((column) => column.trim().replace(/^"|"$/g, '')) ?? [];
    files.set(name, { columns, rows });
  }
  return files;
}

interface TariffPeriod {
  table: FareTable;
  startsAt: number;
  endsAt: number;
}

/** The fare-table versions in force between two instants, each with the part it is in force. */
export function tariffPeriods(tables: readonly FareTable[], from: number, to: number): TariffPeriod[] {
  const sorted = [...tables].sort((a, b) => a.effectiveFrom - b.effectiveFrom);
  const periods: TariffPeriod[] = [];
  sorted.forEach((table, index) => {
    const next = sorted[index + 1]?.effectiveFrom ?? Infinity;
    const startsAt = Math.max(table.effectiveFrom, from);
    const endsAt = Math.min(next, to);
    if (startsAt < endsAt) periods.push({ table, startsAt, endsAt });
  });
  return periods;
}

function productRow(id: string, name: string, category: RiderCategory, media: string, amount: number): Record<string, string> {
  return { fare_product_id: id, fare_product_name: name, rider_category_id: category, fare_media_id: media, amount: String(amount), currency: 'VND' };
}

function legRule(group: string, network: string, from: string, to: string, timeframe: string, product: string, priority: string): Record<string, string> {
  return {
    leg_group_id: group,
    network_id: network,
    from_area_id: from,
    to_area_id: to,
    from_timeframe_group_id: timeframe,
    to_timeframe_group_id: '',
    fare_product_id: product,
    rule_priority: priority,
  };
}

function linesOf(waiver: FareWaiver, lines: readonly NetworkLine[]): NetworkLine[] {
  return lines.filter((line) => (waiver.lineIds === null || waiver.lineIds.includes(line.id)) && (waiver.modes === null || waiver.modes.includes(line.mode)));
}

interface TimeframePiece {
  serviceId: string;
  startTime: string;
  endTime: string;
  days: number[];
}

/** A period's local days as timeframes: a partial first and last day get their own service. */
function periodTimeframes(id: string, startsAt: number, endsAt: number): TimeframePiece[] {
  const waiver = { id };
  const firstDay = localDayNumber(startsAt);
  const lastDay = localDayNumber(endsAt - 1);
  const startTime = timeOfDay(startsAt - localDayStartMs(firstDay));
  const endTime = timeOfDay(endsAt - localDayStartMs(lastDay));
  if (firstDay === lastDay) return [{ serviceId: waiver.id, startTime, endTime, days: [firstDay] }];
  const pieces: TimeframePiece[] = [];
  const wholeDays: number[] = [];
  let day = firstDay;
  if (startTime !== '00:00:00') pieces.push({ serviceId: `${waiver.id}-first`, startTime, endTime: '24:00:00', days: [day++] });
  const lastWhole = endTime === '24:00:00' ? lastDay : lastDay - 1;
  for (; day <= lastWhole; day += 1) wholeDays.push(day);
  if (wholeDays.length) pieces.push({ serviceId: waiver.id, startTime: '00:00:00', endTime: '24:00:00', days: wholeDays });
  if (endTime !== '24:00:00') pieces.push({ serviceId: `${waiver.id}-last`, startTime: '00:00:00', endTime, days: [lastDay] });
  return pieces;
}

function timeOfDay(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}
