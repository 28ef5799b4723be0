import 'reflect-metadata';
import { resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/config';
import { dataSourceOptions } from '../database/data-source-options';
import { FareStore } from '../fares/fare-store';
import { loadFareCalculator } from '../fares/fares.service';
import { buildGtfsFares, writeGtfsFares } from '../fares/gtfs/gtfs-fares';
import { LineEntity, OperatorEntity, StationEntity } from '../network/network.entities';
import { NetworkService } from '../network/network.service';
import { runCommand } from './run-command';

const USAGE = 'usage: npm run gtfs:export -- <folder> [--at 2026-07-01T00:00:00+07:00]';

/** Writes the GTFS-Fares v2 files of the catalogue in force at `at` into a folder; returns their names. */
export async function exportGtfsFares(databaseUrl: string, directory: string, at: number): Promise<string[]> {
  const options = dataSourceOptions({ database: { url: databaseUrl, poolSize: 2, migrateOnStart: false } });
  const dataSource = await new DataSource({ ...options, entities: [OperatorEntity, LineEntity, StationEntity] }).initialize();
  try {
    const network = new NetworkService(dataSource.getRepository(OperatorEntity), dataSource.getRepository(LineEntity));
    const files = buildGtfsFares(await loadFareCalculator(network, new FareStore(dataSource)), at);
    writeGtfsFares(directory, files);
    return [...files.keys()];
  } finally {
    await dataSource.destroy();
  }
}

/** The folder and instant from the command line, or undefined when they do not make sense. */
function parseArguments(args: readonly string[]): { directory: string; at: number } | undefined {
  const atIndex = args.indexOf('--at');
  const atText = atIndex >= 0 ? args[atIndex + 1] : undefined;
  const directory = args.find((arg, index) => !arg.startsWith('--') && (atIndex < 0 || index !== atIndex + 1));
  const at = atText === undefined ? Date.now() : Date.parse(atText);
  if (!directory || (atIndex >= 0 && (atText === undefined || Number.isNaN(at)))) return undefined;
  return { directory: resolve(directory), at };
}

if (require.main === module) {
  const parsed = parseArguments(process.argv.slice(2));
  if (!parsed) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const { directory, at } = parsed;
  runCommand(async () => {
    const files = await exportGtfsFares(loadConfig().database.url, directory, at);
    process.stdout.write(`Wrote ${files.join(', ')} to ${directory} (fares in force at ${new Date(at).toISOString()})\n`);
  });
}
