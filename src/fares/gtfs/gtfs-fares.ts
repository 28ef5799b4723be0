import { stringify } from 'csv-stringify/sync';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FareCalculator } from '../domain/fare-calculator';
import type { FareWaiver, NetworkLine, ProductVersion } from '../domain/fare-model';
import { compactLocalDate, localDayNumber, localDayStartMs } from '../domain/local-time';
import { RIDER_CATEGORIES, type RiderCategory } from '../rider-category';

/**
 * The catalogue in GTFS-Fares v2 (https://gtfs.org/schedule/reference/#fare_mediatxt and the
 * files after it), as in force at one instant, for trip planners.
 *
 * - Each line is a network (route_networks.txt maps it to a route of the same id), each station an
 *   area whose stop has the station's id; fare zones are areas too.
 * - Single trips: one fare leg rule per ordered station pair of a line, pointing at a fare product
 *   that holds the price for every rider category, electronic media at the electronic fare and
 *   cash at the cash fare.
 * - Current and future waivers: leg rules with rule_priority 1 limited to a timeframe whose
 *   service (calendar_dates.txt) is the waiver's local days.
 * - Passes are listed as fare products (per rider category, on the identity-bound media); they
 *   have no leg rules, since GTFS-Fares cannot say "valid for N days". Stored value has no price
 *   and is left out.
 */

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
/** Time-based tickets are tied to a verified identity. */
const PASS_MEDIA = ['citizen-id', 'app-qr'];

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
export function buildGtfsFares(calculator: FareCalculator, at: number): Map<string, GtfsFile> {
  const { snapshot } = calculator;
  const baseFares = new FareCalculator({ ...snapshot, waivers: [] });
  const products = new Map<string, Array<Record<string, string>>>();
  const legRules: Array<Record<string, string>> = [];

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

  for (const line of snapshot.lines) {
    if (!baseFares.coversLine(line.id, at)) continue;
    for (const from of line.stations) {
      for (const to of line.stations) {
        const productId = tripProduct((category) => baseFares.quote(line.id, from.id, to.id, category, at));
        legRules.push(legRule(line.id, line.id, from.id, to.id, '', productId, '0'));
      }
    }
  }

  const timeframes: Array<Record<string, string>> = [];
  const calendarDates: Array<Record<string, string>> = [];
  for (const waiver of snapshot.waivers) {
    if (waiver.endsAt <= at) continue;
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
    for (const piece of waiverTimeframes(waiver)) {
      timeframes.push({ timeframe_group_id: waiver.id, start_time: piece.startTime, end_time: piece.endTime, service_id: piece.serviceId });
      for (const day of piece.days) calendarDates.push({ service_id: piece.serviceId, date: compactLocalDate(day), exception_type: '1' });
    }
  }

  for (const version of calculator.productsAt(at)) {
    if (!version.onSale || !version.prices) continue;
    products.set(version.productId, passRows(version, version.prices));
  }

  const stationAreas = snapshot.lines.flatMap((line) => line.stations.map((station) => ({ area_id: station.id, area_name: `${station.name} (${line.code})` })));
  const files = new Map<string, GtfsFile>([
    ['networks.txt', { columns: ['network_id', 'network_name'], rows: snapshot.lines.map((line) => ({ network_id: line.id, network_name: line.name })) }],
    ['route_networks.txt', { columns: ['network_id', 'route_id'], rows: snapshot.lines.map((line) => ({ network_id: line.id, route_id: line.id })) }],
    ['areas.txt', { columns: ['area_id', 'area_name'], rows: [...stationAreas, ...snapshot.zones.map((zone) => ({ area_id: zone.id, area_name: zone.name }))] }],
    [
      'stop_areas.txt',
      {
        columns: ['area_id', 'stop_id'],
        rows: [
          ...stationAreas.map((area) => ({ area_id: area.area_id, stop_id: area.area_id })),
          ...snapshot.zones.flatMap((zone) => zone.stationIds.map((stationId) => ({ area_id: zone.id, stop_id: stationId }))),
        ],
      },
    ],
    [
      'rider_categories.txt',
      {
        columns: ['rider_category_id', 'rider_category_name', 'is_default_fare_category'],
        rows: RIDER_CATEGORIES.map((category) => ({
          rider_category_id: category,
          rider_category_name: RIDER_CATEGORY_NAMES[category],
          is_default_fare_category: category === 'adult' ? '1' : '0',
        })),
      },
    ],
    ['fare_media.txt', { columns: ['fare_media_id', 'fare_media_name', 'fare_media_type'], rows: MEDIA }],
    ['fare_products.txt', { columns: FARE_PRODUCT_COLUMNS, rows: [...products.values()].flat() }],
    ['fare_leg_rules.txt', { columns: LEG_RULE_COLUMNS, rows: legRules }],
    ['timeframes.txt', { columns: ['timeframe_group_id', 'start_time', 'end_time', 'service_id'], rows: timeframes }],
    ['calendar_dates.txt', { columns: ['service_id', 'date', 'exception_type'], rows: calendarDates }],
  ]);
  return files;
}

/** Writes the files into a folder, creating it. */
export function writeGtfsFares(directory: string, files: Map<string, GtfsFile>): void {
  mkdirSync(directory, { recursive: true });
  for (const [name, file] of files) {
    writeFileSync(join(directory, name), stringify(file.rows as Array<Record<string, string>>, { header: true, columns: [...file.columns], record_delimiter: '\r\n' }));
  }
}

function productRow(id: string, name: string, category: RiderCategory, media: string, amount: number): Record<string, string> {
  return { fare_product_id: id, fare_product_name: name, rider_category_id: category, fare_media_id: media, amount: String(amount), currency: 'VND' };
}

function passRows(version: ProductVersion, prices: Readonly<Record<RiderCategory, number>>): Array<Record<string, string>> {
  return RIDER_CATEGORIES.flatMap((category) => PASS_MEDIA.map((media) => productRow(version.productId, version.name, category, media, prices[category])));
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

/** The waiver's local days as timeframes: a partial first and last day get their own service. */
function waiverTimeframes(waiver: FareWaiver): TimeframePiece[] {
  const firstDay = localDayNumber(waiver.startsAt);
  const lastDay = localDayNumber(waiver.endsAt - 1);
  const startTime = timeOfDay(waiver.startsAt - localDayStartMs(firstDay));
  const endTime = timeOfDay(waiver.endsAt - localDayStartMs(lastDay));
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
