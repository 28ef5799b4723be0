import { stringify } from 'csv-stringify/sync';
import { Zip, ZipDeflate } from 'fflate';
import { PassThrough, type Readable } from 'node:stream';
import { TIDES_FARE_TRANSACTION_FIELDS, type TidesFareTransaction } from './settlement.queries';

/**
 * A TIDES v1.0 data package (https://tides-transit.org, spec/tides-datapackage-profile.json) of one
 * day's fare transactions, as a zip: `datapackage.json`, `fare_transactions.csv` (every column of
 * the TIDES table schema, in its order), `devices.csv` (the devices its rows name) and `stops.csv`
 * (the stations they name; TIDES references GTFS stops.stop_id and defines no stops table, so its
 * schema, `stops.schema.json`, is ours: a subset of GTFS stops.txt).
 */
export const TIDES_VERSION = 'v1.0';
const TIDES_SPEC = `https://raw.githubusercontent.com/TIDES-transit/TIDES/${TIDES_VERSION}/spec`;

export const TIDES_DEVICE_FIELDS = ['device_id', 'stop_id', 'vehicle_id', 'train_car_id', 'device_type', 'device_vendor', 'device_model', 'device_location'] as const;
export type TidesDevice = Record<(typeof TIDES_DEVICE_FIELDS)[number], string | null>;

export const STOPS_SCHEMA = {
  name: 'stops.schema.json',
  description: 'The stations fare transactions and devices name: a subset of GTFS stops.txt (TIDES references GTFS stops.stop_id)',
  primaryKey: 'stop_id',
  missingValues: ['NA', 'NaN', ''],
  fields: [
    { name: 'stop_id', type: 'string', description: 'Our station id, as in the GTFS export', constraints: { required: true, unique: true } },
    { name: 'stop_name', type: 'string', constraints: { required: true } },
    { name: 'route_id', type: 'string', description: 'The line the station belongs to (GTFS routes.route_id)' },
  ],
};
export const TIDES_STOP_FIELDS = ['stop_id', 'stop_name', 'route_id'] as const;
export type TidesStop = Record<(typeof TIDES_STOP_FIELDS)[number], string>;

export interface TidesPackageSource {
  readonly date: string;
  /** null: every operator. */
  readonly operatorId: string | null;
  readonly transactions: AsyncIterable<TidesFareTransaction>;
  devices(ids: readonly string[]): Promise<TidesDevice[]>;
  stops(ids: readonly string[]): Promise<TidesStop[]>;
}

/** A CSV cell: null is the empty string (a TIDES missing value), booleans "true"/"false". */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function csv(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>, header: boolean): string {
  return stringify(
    rows.map((row) => columns.map((column) => cell(row[column]))),
    { header: false, record_delimiter: '\r\n' },
  ).replace(/^/, header ? `${columns.join(',')}\r\n` : '');
}

export function tidesDataPackage(date: string, operatorId: string | null): object {
  const scope = operatorId ?? 'all-operators';
  const resource = (name: string, title: string, schema: string, tidesTable?: string) => ({
    name,
    title,
    path: `${name}.csv`,
    profile: 'tabular-data-resource',
    format: 'csv',
    mediatype: 'text/csv',
    encoding: 'utf-8',
    ...(tidesTable && { 'tides-table': tidesTable }),
    schema,
    sources: [{ title: 'Liên Thông fare management', component: 'AFC', product: 'lien-thong' }],
  });
  return {
    profile: `${TIDES_SPEC}/tides-datapackage-profile.json`,
    name: `lien-thong-fare-transactions-${date}-${scope}`,
    title: `Liên Thông fare transactions ${date} (${scope})`,
    description: `Purchases, refunds, wallet top-ups, pass activations and accepted taps of the local day ${date} (Asia/Ho_Chi_Minh), TIDES ${TIDES_VERSION}`,
    agency: operatorId ?? 'Liên Thông (all operators)',
    licenses: [{ name: 'Proprietary', title: 'For the operators and the fare management centre only' }],
    resources: [
      resource('fare_transactions', 'Fare transactions', `${TIDES_SPEC}/fare_transactions.schema.json`, 'fare_transactions'),
      resource('devices', 'Validators', `${TIDES_SPEC}/devices.schema.json`, 'devices'),
      resource('stops', 'Stations', 'stops.schema.json'),
    ],
  };
}

/**
 * Streams the package as a zip: the transactions are compressed as they are read (a day can hold
 * millions), the devices and stops they name are read once they are all known.
 */
export function tidesPackageZip(source: TidesPackageSource): Readable {
  const out = new PassThrough();
  const zip = new Zip((error, chunk, final) => {
    if (error) out.destroy(error);
    else {
      out.write(Buffer.from(chunk));
      if (final) out.end();
    }
  });
  const addWhole = (name: string, text: string) => {
    const file = new ZipDeflate(name, { level: 6 });
    zip.add(file);
    file.push(Buffer.from(text, 'utf8'), true);
  };
  void (async () => {
    const transactions = new ZipDeflate('fare_transactions.csv', { level: 6 });
    zip.add(transactions);
    const deviceIds = new Set<string>();
    const stopIds = new Set<string>();
    let batch: TidesFareTransaction[] = [];
    let header = true;
    const flush = () => {
      transactions.push(Buffer.from(csv(TIDES_FARE_TRANSACTION_FIELDS, batch as unknown as Array<Record<string, unknown>>, header), 'utf8'));
      header = false;
      batch = [];
    };
    for await (const row of source.transactions) {
      if (row.device_id !== null) deviceIds.add(row.device_id);
      if (row.stop_id !== null) stopIds.add(row.stop_id);
      batch.push(row);
      if (batch.length >= 1000) flush();
    }
    flush();
    transactions.push(new Uint8Array(0), true);
    const devices = await source.devices([...deviceIds].sort());
    for (const device of devices) if (device.stop_id !== null) stopIds.add(device.stop_id);
    const stops = await source.stops([...stopIds].sort());
    addWhole('devices.csv', csv(TIDES_DEVICE_FIELDS, devices, true));
    addWhole('stops.csv', csv(TIDES_STOP_FIELDS, stops, true));
    addWhole('stops.schema.json', `${JSON.stringify(STOPS_SCHEMA, null, 2)}\n`);
    addWhole('datapackage.json', `${JSON.stringify(tidesDataPackage(source.date, source.operatorId), null, 2)}\n`);
    zip.end();
  })().catch((error: unknown) => out.destroy(error as Error));
  return out;
}
