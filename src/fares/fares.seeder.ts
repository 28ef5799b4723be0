import type { DataSource } from 'typeorm';
import { FareStore } from './fare-store';
import { HANOI_FARE_TABLES, HANOI_PRODUCTS, HANOI_WAIVERS, HANOI_ZONES } from './hanoi-fares';

export interface FareSeedCounts {
  fareTables: number;
  products: number;
  waivers: number;
  zones: number;
}

/**
 * Writes Hà Nội's fares after the network (zones name its stations). Versions already present are
 * left as they are, never rewritten: running it again adds only versions the seed gained.
 */
export async function seedFares(dataSource: DataSource): Promise<FareSeedCounts> {
  const store = new FareStore(dataSource);
  for (const { estimated, ...zone } of HANOI_ZONES) await store.upsertZone(zone, estimated);
  for (const table of HANOI_FARE_TABLES) await store.insertFareTable(table, 'skip');
  const seen = new Set<string>();
  for (const version of HANOI_PRODUCTS) {
    await store.insertProductVersion(version, !seen.has(version.productId), 'skip');
    seen.add(version.productId);
  }
  for (const waiver of HANOI_WAIVERS) await store.insertWaiver(waiver, 'skip');
  return { fareTables: HANOI_FARE_TABLES.length, products: seen.size, waivers: HANOI_WAIVERS.length, zones: HANOI_ZONES.length };
}
