import { HANOI_PRODUCTS } from '../fares/hanoi-fares';
import { HANOI_ALLOCATION_KEYS } from './allocation-keys';

describe("Hà Nội's default allocation keys", () => {
  const keyOf = (productId: string) => HANOI_ALLOCATION_KEYS.find((seed) => seed.productId === productId)?.key;

  it('gives every pass a key, and nothing else', () => {
    expect(HANOI_ALLOCATION_KEYS.map((seed) => seed.productId).sort()).toEqual(HANOI_PRODUCTS.filter((product) => product.kind === 'pass').map((product) => product.productId).sort());
  });

  it('splits bus + metro passes by passenger-km and bus network passes by trips', () => {
    expect(['bus-metro-day', 'bus-metro-week', 'bus-metro-month', 'bus-metro-12-month'].map(keyOf)).toEqual(['passenger_km', 'passenger_km', 'passenger_km', 'passenger_km']);
    expect(['bus-day', 'bus-week', 'bus-month-inter-route', 'bus-12-month-inter-route'].map(keyOf)).toEqual(['trips', 'trips', 'trips', 'trips']);
  });
});
