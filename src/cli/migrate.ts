import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/config';
import { dataSourceOptions } from '../database/data-source-options';
import { migrateWithLock } from '../database/migrate';
import { seedFares } from '../fares/fares.seeder';
import { seedNetwork } from '../network/network.seeder';
import { seedAllocationKeys } from '../settlement/allocation-keys';
import { runCommand } from './run-command';

/** `npm run migrate` applies pending migrations; `npm run seed` also writes the Hà Nội network and fares. */
export async function migrateAndMaybeSeed(databaseUrl: string, seed: boolean, say: (line: string) => void): Promise<void> {
  const dataSource = await new DataSource(dataSourceOptions({ database: { url: databaseUrl, poolSize: 2, migrateOnStart: true } })).initialize();
  try {
    const applied = await migrateWithLock(dataSource);
    say(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'Schema is up to date');
    if (seed) {
      const counts = await seedNetwork(dataSource);
      say(`Seeded the Hà Nội network: ${counts.operators} operators, ${counts.lines} lines, ${counts.stations} stations`);
      const fares = await seedFares(dataSource);
      say(`Seeded the Hà Nội fares: ${fares.fareTables} fare tables, ${fares.products} products, ${fares.waivers} waivers, ${fares.zones} zones`);
      say(`Seeded the settlement allocation keys of ${await seedAllocationKeys(dataSource)} passes`);
    }
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) {
  runCommand(() => migrateAndMaybeSeed(loadConfig().database.url, process.argv.includes('--seed'), (line) => process.stdout.write(`${line}\n`)));
}
