import { parse } from 'csv-parse/sync';
import { unzipSync } from 'fflate';

export type Row = Record<string, string>;
export type Feed = Map<string, Row[]>;

/** A zipped feed as a consumer reads it: every .txt at the root, parsed by header. */
export function readFeed(zip: Buffer): Feed {
  const feed: Feed = new Map();
  for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(zip)))) {
    if (name.includes('/')) throw new Error(`${name}: GTFS files must be at the root of the zip`);
    feed.set(name, parse<Row>(Buffer.from(bytes), { columns: true, bom: true, skip_empty_lines: true }));
  }
  return feed;
}

/**
 * The GTFS Schedule reference's rules (gtfs.org/schedule/reference, with Fares v2) that a feed of
 * ours can break: required files and fields (conditionally required ones included), enums and
 * formats, every foreign key, timeframes and feed_info's dates. Returns the problems found.
 */
export function gtfsProblems(feed: Feed): string[] {
  const problems: string[] = [];
  const rows = (name: string) => feed.get(name) ?? [];
  const has = (name: string) => feed.has(name);

  for (const name of ['agency.txt', 'routes.txt', 'stops.txt', 'trips.txt', 'stop_times.txt', 'feed_info.txt']) if (!has(name)) problems.push(`${name} is required`);
  if (!has('calendar.txt') && !has('calendar_dates.txt')) problems.push('calendar.txt or calendar_dates.txt is required');

  const REQUIRED: Record<string, string[]> = {
    'agency.txt': ['agency_name', 'agency_url', 'agency_timezone'],
    'routes.txt': ['route_id', 'route_type'],
    'stops.txt': ['stop_id'],
    'trips.txt': ['route_id', 'service_id', 'trip_id'],
    'stop_times.txt': ['trip_id', 'stop_sequence'],
    'calendar.txt': ['service_id', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'start_date', 'end_date'],
    'calendar_dates.txt': ['service_id', 'date', 'exception_type'],
    'feed_info.txt': ['feed_publisher_name', 'feed_publisher_url', 'feed_lang'],
    'frequencies.txt': ['trip_id', 'start_time', 'end_time', 'headway_secs'],
    'areas.txt': ['area_id'],
    'stop_areas.txt': ['area_id', 'stop_id'],
    'networks.txt': ['network_id'],
    'route_networks.txt': ['network_id', 'route_id'],
    'timeframes.txt': ['timeframe_group_id', 'service_id'],
    'rider_categories.txt': ['rider_category_id', 'rider_category_name', 'is_default_fare_category'],
    'fare_media.txt': ['fare_media_id', 'fare_media_type'],
    'fare_products.txt': ['fare_product_id', 'amount', 'currency'],
    'fare_leg_rules.txt': ['fare_product_id'],
  };
  for (const [name, fields] of Object.entries(REQUIRED)) {
    rows(name).forEach((row, index) => {
      for (const field of fields) if (!row[field]) problems.push(`${name} row ${index + 2}: ${field} is required`);
    });
  }
  const agencies = rows('agency.txt');
  if (agencies.length > 1) agencies.forEach((row) => !row.agency_id && problems.push('agency.txt: agency_id is required when there are several agencies'));
  if (new Set(agencies.map((row) => row.agency_timezone)).size > 1) problems.push('agency.txt: every agency must have the same agency_timezone');
  if (agencies.length > 1) rows('routes.txt').forEach((row) => !row.agency_id && problems.push(`routes.txt ${row.route_id}: agency_id is required when there are several agencies`));
  rows('stops.txt').forEach((row) => {
    const type = row.location_type || '0';
    if (!['0', '1', '2', '3', '4'].includes(type)) problems.push(`stops.txt ${row.stop_id}: location_type ${type}`);
    if (['0', '1', '2'].includes(type)) {
      if (!row.stop_name) problems.push(`stops.txt ${row.stop_id}: stop_name is required for location_type ${type}`);
      for (const field of ['stop_lat', 'stop_lon']) if (!/^-?\d+(\.\d+)?$/.test(row[field] ?? '')) problems.push(`stops.txt ${row.stop_id}: ${field} is required for location_type ${type}`);
    }
  });
  const ROUTE_TYPES = ['0', '1', '2', '3', '4', '5', '6', '7', '11', '12'];
  rows('routes.txt').forEach((row) => {
    if (!ROUTE_TYPES.includes(row.route_type ?? '') && !/^\d{3,4}$/.test(row.route_type ?? '')) problems.push(`routes.txt ${row.route_id}: route_type ${row.route_type}`);
    if (!row.route_short_name && !row.route_long_name) problems.push(`routes.txt ${row.route_id}: route_short_name or route_long_name is required`);
  });
  const date = /^\d{4}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/;
  const time = /^\d{1,2}:[0-5]\d:[0-5]\d$/;
  const seconds = (value: string) => value.split(':').reduce((total, part) => total * 60 + Number(part), 0);
  rows('calendar_dates.txt').forEach((row) => {
    if (!date.test(row.date ?? '')) problems.push(`calendar_dates.txt ${row.service_id}: date ${row.date}`);
    if (!['1', '2'].includes(row.exception_type ?? '')) problems.push(`calendar_dates.txt ${row.service_id}: exception_type ${row.exception_type}`);
  });
  rows('calendar.txt').forEach((row) => {
    for (const day of ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']) if (!['0', '1'].includes(row[day] ?? '')) problems.push(`calendar.txt ${row.service_id}: ${day}`);
    if (!date.test(row.start_date ?? '') || !date.test(row.end_date ?? '') || row.start_date > row.end_date) problems.push(`calendar.txt ${row.service_id}: dates`);
  });
  const info = rows('feed_info.txt');
  if (info.length !== 1) problems.push(`feed_info.txt has ${info.length} rows, not 1`);
  for (const row of info) {
    if (!row.feed_start_date || !row.feed_end_date) problems.push('feed_info.txt: feed_start_date and feed_end_date are recommended and expected here');
    if (row.feed_start_date && !date.test(row.feed_start_date)) problems.push(`feed_info.txt: feed_start_date ${row.feed_start_date}`);
    if (row.feed_end_date && !date.test(row.feed_end_date)) problems.push(`feed_info.txt: feed_end_date ${row.feed_end_date}`);
    if (row.feed_start_date && row.feed_end_date && row.feed_start_date > row.feed_end_date) problems.push('feed_info.txt: starts after it ends');
  }
  rows('timeframes.txt').forEach((row) => {
    const [start, end] = [row.start_time ?? '', row.end_time ?? ''];
    if ((start === '') !== (end === '')) problems.push(`timeframes.txt ${row.timeframe_group_id}: start_time and end_time go together`);
    if (start && (!time.test(start) || !time.test(end) || seconds(start) >= seconds(end) || seconds(end) > 24 * 3600)) problems.push(`timeframes.txt ${row.timeframe_group_id}: ${start}–${end}`);
  });
  rows('fare_media.txt').forEach((row) => !['0', '1', '2', '3', '4'].includes(row.fare_media_type ?? '') && problems.push(`fare_media.txt ${row.fare_media_id}: fare_media_type`));
  rows('rider_categories.txt').forEach((row) => !['0', '1', ''].includes(row.is_default_fare_category ?? '') && problems.push(`rider_categories.txt ${row.rider_category_id}: is_default_fare_category`));
  if (rows('rider_categories.txt').filter((row) => row.is_default_fare_category === '1').length > 1) problems.push('rider_categories.txt: more than one default');
  rows('fare_products.txt').forEach((row) => {
    if (!/^-?\d+(\.\d+)?$/.test(row.amount ?? '')) problems.push(`fare_products.txt ${row.fare_product_id}: amount ${row.amount}`);
    if (!/^[A-Z]{3}$/.test(row.currency ?? '')) problems.push(`fare_products.txt ${row.fare_product_id}: currency ${row.currency}`);
  });
  const productKeys = new Set<string>();
  rows('fare_products.txt').forEach((row) => {
    const key = `${row.fare_product_id}|${row.rider_category_id ?? ''}|${row.fare_media_id ?? ''}`;
    if (productKeys.has(key)) problems.push(`fare_products.txt: ${key} twice`);
    productKeys.add(key);
  });
  rows('fare_leg_rules.txt').forEach((row) => row.rule_priority && !/^\d+$/.test(row.rule_priority) && problems.push(`fare_leg_rules.txt: rule_priority ${row.rule_priority}`));
  if (has('networks.txt') && rows('routes.txt').some((row) => row.network_id)) problems.push('routes.txt network_id and networks.txt must not both be used');

  // Every foreign key.
  const ids = (name: string, field: string) => new Set(rows(name).map((row) => row[field]));
  const services = new Set([...ids('calendar.txt', 'service_id'), ...ids('calendar_dates.txt', 'service_id')]);
  const keys: Array<[string, string, Set<string | undefined>, boolean]> = [
    ['routes.txt', 'agency_id', ids('agency.txt', 'agency_id'), false],
    ['trips.txt', 'route_id', ids('routes.txt', 'route_id'), true],
    ['trips.txt', 'service_id', services, true],
    ['stop_times.txt', 'trip_id', ids('trips.txt', 'trip_id'), true],
    ['stop_times.txt', 'stop_id', ids('stops.txt', 'stop_id'), false],
    ['frequencies.txt', 'trip_id', ids('trips.txt', 'trip_id'), true],
    ['stops.txt', 'parent_station', ids('stops.txt', 'stop_id'), false],
    ['stop_areas.txt', 'area_id', ids('areas.txt', 'area_id'), true],
    ['stop_areas.txt', 'stop_id', ids('stops.txt', 'stop_id'), true],
    ['route_networks.txt', 'network_id', ids('networks.txt', 'network_id'), true],
    ['route_networks.txt', 'route_id', ids('routes.txt', 'route_id'), true],
    ['timeframes.txt', 'service_id', services, true],
    ['fare_products.txt', 'fare_media_id', ids('fare_media.txt', 'fare_media_id'), false],
    ['fare_products.txt', 'rider_category_id', ids('rider_categories.txt', 'rider_category_id'), false],
    ['fare_leg_rules.txt', 'fare_product_id', ids('fare_products.txt', 'fare_product_id'), true],
    ['fare_leg_rules.txt', 'network_id', new Set([...ids('networks.txt', 'network_id'), ...ids('routes.txt', 'network_id')]), false],
    ['fare_leg_rules.txt', 'from_area_id', ids('areas.txt', 'area_id'), false],
    ['fare_leg_rules.txt', 'to_area_id', ids('areas.txt', 'area_id'), false],
    ['fare_leg_rules.txt', 'from_timeframe_group_id', ids('timeframes.txt', 'timeframe_group_id'), false],
    ['fare_leg_rules.txt', 'to_timeframe_group_id', ids('timeframes.txt', 'timeframe_group_id'), false],
  ];
  for (const [name, field, targets, required] of keys) {
    const dangling = new Set(rows(name).filter((row) => (required || row[field]) && !targets.has(row[field])).map((row) => row[field]));
    if (dangling.size) problems.push(`${name}.${field} points at nothing: ${[...dangling].slice(0, 5).join(', ')}${dangling.size > 5 ? ` and ${dangling.size - 5} more` : ''}`);
  }
  // stop_times: an arrival or departure on the first and last stop of every trip.
  const byTrip = new Map<string, Row[]>();
  for (const row of rows('stop_times.txt')) byTrip.set(row.trip_id, [...(byTrip.get(row.trip_id) ?? []), row]);
  for (const [trip, stops] of byTrip) {
    const ordered = [...stops].sort((a, b) => Number(a.stop_sequence) - Number(b.stop_sequence));
    for (const end of [ordered[0], ordered[ordered.length - 1]]) if (!end?.arrival_time && !end?.departure_time) problems.push(`stop_times.txt ${trip}: first and last stop need times`);
  }
  // Unused areas and rules without a product the feed defines were the old export's faults.
  const usedAreas = new Set(rows('fare_leg_rules.txt').flatMap((row) => [row.from_area_id, row.to_area_id]));
  for (const area of ids('areas.txt', 'area_id')) if (!usedAreas.has(area)) problems.push(`areas.txt ${area} is used by no rule`);
  return problems;
}

/** Whether a service runs on a date (YYYYMMDD), from calendar.txt and calendar_dates.txt. */
function serviceRuns(feed: Feed, serviceId: string, date: string): boolean {
  const exception = (feed.get('calendar_dates.txt') ?? []).find((row) => row.service_id === serviceId && row.date === date);
  if (exception) return exception.exception_type === '1';
  const calendar = (feed.get('calendar.txt') ?? []).find((row) => row.service_id === serviceId);
  if (!calendar || date < calendar.start_date || date > calendar.end_date) return false;
  const day = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'][new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}T00:00:00Z`).getUTCDay()];
  return calendar[day] === '1';
}

/**
 * The fare of one leg as a Fares v2 consumer that honours rule_priority computes it: the rules whose
 * network, areas (through stop_areas) and timeframe match the leg, the highest priority among them,
 * and that product's amount for the rider category and medium. Throws when several products tie.
 */
export function gtfsLegFare(feed: Feed, leg: { routeId: string; fromStopId: string; toStopId: string; localDate: string; localTime: string; riderCategory: string; media: string }): number | undefined {
  const networks = new Set((feed.get('route_networks.txt') ?? []).filter((row) => row.route_id === leg.routeId).map((row) => row.network_id));
  const areasOf = (stop: string) => new Set((feed.get('stop_areas.txt') ?? []).filter((row) => row.stop_id === stop).map((row) => row.area_id));
  const [fromAreas, toAreas] = [areasOf(leg.fromStopId), areasOf(leg.toStopId)];
  const seconds = (value: string) => value.split(':').reduce((total, part) => total * 60 + Number(part), 0);
  const at = seconds(leg.localTime);
  const inTimeframe = (group: string) =>
    (feed.get('timeframes.txt') ?? []).some(
      (row) => row.timeframe_group_id === group && serviceRuns(feed, row.service_id, leg.localDate) && (!row.start_time || (seconds(row.start_time) <= at && at < seconds(row.end_time))),
    );
  const matching = (feed.get('fare_leg_rules.txt') ?? []).filter(
    (rule) =>
      (!rule.network_id || networks.has(rule.network_id)) &&
      (!rule.from_area_id || fromAreas.has(rule.from_area_id)) &&
      (!rule.to_area_id || toAreas.has(rule.to_area_id)) &&
      (!rule.from_timeframe_group_id || inTimeframe(rule.from_timeframe_group_id)),
  );
  if (matching.length === 0) return undefined;
  const top = Math.max(...matching.map((rule) => Number(rule.rule_priority || 0)));
  const products = new Set(matching.filter((rule) => Number(rule.rule_priority || 0) === top).map((rule) => rule.fare_product_id));
  if (products.size > 1) throw new Error(`ambiguous: ${[...products].join(', ')} for ${JSON.stringify(leg)}`);
  const [product] = [...products];
  const row = (feed.get('fare_products.txt') ?? []).find((candidate) => candidate.fare_product_id === product && candidate.rider_category_id === leg.riderCategory && candidate.fare_media_id === leg.media);
  return row ? Number(row.amount) : undefined;
}
