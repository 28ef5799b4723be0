import type { DataSource } from 'typeorm';
import { HANOI_PRODUCTS } from '../fares/hanoi-fares';
import type { AllocationKey } from './domain/allocation';

export interface AllocationKeySeed {
  productId: string;
  key: AllocationKey;
  shares: Record<string, number> | null;
  note: string;
}

/** The start of the account-based network (25 Jun 2026, local midnight): the keys apply from then on. */
const KEYS_FROM = '2026-06-25T00:00:00+07:00';

/**
 * Hà Nội's default keys. The city does not publish how multimodal-pass revenue is split
 * (../shared/domain/hanoi.md "Settlement"), so these are defaults an admin replaces with a later row:
 * - bus + metro passes: by passenger-km, since metro and bus fares are both distance based now;
 * - bus-only network passes: by trips, as the route-length fares of 2024 priced every bus trip alike;
 * - passes valid on one operator only (metro passes, single-route bus passes) are attributed
 *   directly whatever the key; their key (trips) applies only if the network ever changes under them.
 * Single tickets and pay-as-you-go need no key: they are on one line, attributed directly.
 */
export const HANOI_ALLOCATION_KEYS: readonly AllocationKeySeed[] = HANOI_PRODUCTS.filter((product) => product.kind === 'pass').map((product) => {
  const multimodal = product.modes.includes('metro') && product.modes.some((mode) => mode !== 'metro');
  return multimodal
    ? { productId: product.productId, key: 'passenger_km', shares: null, note: 'Multimodal bus + metro pass: split by passenger-km (default; the city publishes no key)' }
    : { productId: product.productId, key: 'trips', shares: null, note: product.modes.includes('metro') || product.singleLine ? 'Valid on one operator: attributed directly' : 'Bus network pass: split by trips (default)' };
});

/** Writes the default keys; a product that already has a key at that date keeps it. */
export async function seedAllocationKeys(dataSource: DataSource): Promise<number> {
  for (const seed of HANOI_ALLOCATION_KEYS) {
    await dataSource.query(
      `INSERT INTO product_allocation_keys (product_id, effective_from, key, shares, note) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [seed.productId, KEYS_FROM, seed.key, seed.shares === null ? null : JSON.stringify(seed.shares), seed.note],
    );
  }
  return HANOI_ALLOCATION_KEYS.length;
}
