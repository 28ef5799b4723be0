import 'reflect-metadata';
import { parse } from 'csv-parse/sync';
import { unzipSync } from 'fflate';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/config';
import { dataSourceOptions } from '../database/data-source-options';
import { FareStore } from '../fares/fare-store';
import { loadFareCalculator } from '../fares/fares.service';
import { buildGtfsFares, gtfsZip, readGtfsZip, type GtfsBaseFeed, type GtfsExportOptions } from '../fares/gtfs/gtfs-fares';
import { LineEntity, OperatorEntity, StationEntity } from '../network/network.entities';
import { NetworkService } from '../network/network.service';
import { runCommand } from './run-command';

const USAGE =
  'usage: npm run gtfs:export -- <feed.zip> [--at 2026-07-01T00:00:00+07:00] [--days 365] [--base-feed operator-gtfs.zip --id-map id-map.csv]';

/** Builds the feed from the data in Postgres (fares in force from `at`). */
export async function buildGtfsFeedZip(databaseUrl: string, at: number, options: Omit<GtfsExportOptions, 'operators'> = {}): Promise<{ zip: Buffer; files: string[] }> {
  const config = dataSourceOptions({ database: { url: databaseUrl, poolSize: 2, migrateOnStart: false } });
  const dataSource = await new DataSource({ ...config, entities: [OperatorEntity, LineEntity, StationEntity] }).initialize();
  try {
    const network = new NetworkService(dataSource.getRepository(OperatorEntity), dataSource.getRepository(LineEntity));
    const operators = await network.listOperators();
    const files = buildGtfsFares(await loadFareCalculator(network, new FareStore(dataSource)), at, { ...options, operators });
    return { zip: gtfsZip(files), files: [...files.keys()] };
  } finally {
    await dataSource.destroy();
  }
}

/**
 * An operator's GTFS zip and the table mapping our ids onto its ids: a CSV with the columns
 * `kind` (`stop` or `route`), `our_id` (station or line id) and `feed_id` (its stop_id or route_id).
 */
export function loadBaseFeed(zipPath: string, idMapPath: string): GtfsBaseFeed {
  const files = readGtfsZip(unzipSync(new Uint8Array(readFileSync(zipPath))), (text) => parse<Record<string, string>>(text, { columns: true, bom: true, skip_empty_lines: true }));
  const map = parse<{ kind: string; our_id: string; feed_id: string }>(readFileSync(idMapPath), { columns: true, bom: true, skip_empty_lines: true });
  const of = (kind: string) => new Map(map.filter((row) => row.kind === kind).map((row) => [row.our_id, row.feed_id]));
  return { files, stopIdOf: of('stop'), routeIdOf: of('route') };
}

interface Arguments {
  file: string;
  at: number;
  days: number | undefined;
  base: { feed: string; idMap: string } | undefined;
}

/** The arguments from the command line, or undefined when they do not make sense. */
export function parseArguments(args: readonly string[]): Arguments | undefined {
  const flags = new Map<string, string | undefined>();
  const positional: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index];
    if (arg.startsWith('--')) flags.set(arg, args[(index += 1)]);
    else positional.push(arg);
  }
  const known = ['--at', '--days', '--base-feed', '--id-map'];
  if ([...flags.entries()].some(([flag, value]) => !known.includes(flag) || value === undefined)) return undefined;
  const at = flags.has('--at') ? Date.parse(flags.get('--at')!) : Date.now();
  const days = flags.has('--days') ? Number(flags.get('--days')) : undefined;
  const [file] = positional;
  if (!file || positional.length > 1 || Number.isNaN(at) || (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 1000))) return undefined;
  if (flags.has('--base-feed') !== flags.has('--id-map')) return undefined;
  const base = flags.has('--base-feed') ? { feed: resolve(flags.get('--base-feed')!), idMap: resolve(flags.get('--id-map')!) } : undefined;
  return { file: resolve(file), at, days, base };
}

if (require.main === module) {
  const parsed = parseArguments(process.argv.slice(2));
  if (!parsed) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const { file, at, days, base } = parsed;
  runCommand(async () => {
    const feed = await buildGtfsFeedZip(loadConfig().database.url, at, { days, base: base && loadBaseFeed(base.feed, base.idMap) });
    writeFileSync(file, feed.zip);
    process.stdout.write(`Wrote ${file}: ${feed.files.join(', ')} (fares in force from ${new Date(at).toISOString()})\n`);
    if (!base) process.stdout.write('No --base-feed: the feed has fares, agency, stops and routes but no trips (see feed_info.txt).\n');
  });
}
