import { FareCalculator } from '../fares/domain/fare-calculator';
import { localDayNumber } from '../fares/domain/local-time';
import { HANOI_FARE_TABLES, HANOI_PRODUCTS, HANOI_WAIVERS, HANOI_ZONES } from '../fares/hanoi-fares';
import { HANOI_LINES } from '../network/hanoi-network';
import { dayNumberOfDate, priceOrderItems, type OrderItemRequest } from './order-pricing';
import { domainErrorCode } from '../../test/support/errors';

const fares = new FareCalculator({ lines: HANOI_LINES, zones: HANOI_ZONES, fareTables: HANOI_FARE_TABLES, products: HANOI_PRODUCTS, waivers: HANOI_WAIVERS });
/** Under the Aug 2025 tariff, outside every waiver. */
const NOW = Date.parse('2025-10-15T08:00:00+07:00');
const price = (items: OrderItemRequest[], riderCategory: 'adult' | 'priority' | 'elderly' = 'adult') => priceOrderItems(fares, items, riderCategory, NOW, 30);


describe('priceOrderItems', () => {
  it('prices a single trip with the fare table, for the line of its stations', () => {
    const [item] = price([{ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-yen-nghia', quantity: 3 }]);
    expect(item).toEqual({
      productId: 'metro-single',
      productVersionId: 'metro-single@2025-07-31T17:00:00.000Z',
      name: 'Metro single trip',
      kind: 'single',
      quantity: 3,
      unitPrice: 18_625,
      modes: ['metro'],
      lineIds: ['metro-2a'],
      originStationId: '2a-cat-linh',
      destinationStationId: '2a-yen-nghia',
      fareRuleId: 'hanoi-2025-08-01:metro-distance',
      validityDays: null,
      validFrom: null,
    });
  });

  it("prices passes by the rider's category, and free riders at nothing", () => {
    expect(price([{ productId: 'metro-month' }])[0]).toMatchObject({ unitPrice: 280_000, validityDays: 30, lineIds: null, validFrom: null });
    expect(price([{ productId: 'metro-month' }], 'priority')[0].unitPrice).toBe(140_000);
    expect(price([{ productId: 'metro-month' }], 'elderly')[0].unitPrice).toBe(0);
    expect(price([{ productId: 'metro-single', originStationId: '3-nhon', destinationStationId: '3-cau-giay' }], 'elderly')[0].unitPrice).toBe(0);
  });

  it('binds a single-route pass to the chosen line of its modes', () => {
    expect(price([{ productId: 'bus-month-single-route', lineId: 'brt01' }])[0].lineIds).toEqual(['brt01']);
    expect(domainErrorCode(() => price([{ productId: 'bus-month-single-route', lineId: 'metro-2a' }]))).toBe('PRODUCT_NOT_VALID_ON_LINE');
    expect(domainErrorCode(() => price([{ productId: 'bus-month-single-route' }]))).toBe('LINE_REQUIRED');
    expect(domainErrorCode(() => price([{ productId: 'bus-month-inter-route', lineId: 'brt01' }]))).toBe('FIELD_NOT_APPLICABLE');
  });

  it('accepts a pass start from today to the configured horizon, in local dates', () => {
    const today = localDayNumber(NOW);
    const date = (day: number) => new Date(day * 86_400_000).toISOString().slice(0, 10);
    expect(dayNumberOfDate(date(today))).toBe(today);
    expect(price([{ productId: 'metro-week', validFrom: date(today) }])[0].validFrom).toBe(date(today));
    expect(price([{ productId: 'metro-week', validFrom: date(today + 30) }])[0].validFrom).toBe(date(today + 30));
    expect(domainErrorCode(() => price([{ productId: 'metro-week', validFrom: date(today - 1) }]))).toBe('INVALID_VALID_FROM');
    expect(domainErrorCode(() => price([{ productId: 'metro-week', validFrom: date(today + 31) }]))).toBe('INVALID_VALID_FROM');
  });

  it('refuses what cannot be sold as a ticket', () => {
    expect(domainErrorCode(() => price([{ productId: 'pay-as-you-go' }]))).toBe('PRODUCT_NOT_SOLD_AS_TICKET');
    expect(domainErrorCode(() => price([{ productId: 'nothing' }]))).toBe('UNKNOWN_PRODUCT');
    expect(domainErrorCode(() => price([{ productId: 'metro-single', originStationId: '2a-cat-linh' }]))).toBe('ORIGIN_DESTINATION_REQUIRED');
    expect(domainErrorCode(() => price([{ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-cat-linh' }]))).toBe('SAME_STATION');
    expect(domainErrorCode(() => price([{ productId: 'bus-single', originStationId: '3-nhon', destinationStationId: '3-cau-giay' }]))).toBe('PRODUCT_NOT_VALID_ON_LINE');
    expect(domainErrorCode(() => price([{ productId: 'metro-day', originStationId: '3-nhon', destinationStationId: '3-cau-giay' }]))).toBe('FIELD_NOT_APPLICABLE');
    const offSale = new FareCalculator({ ...fares.snapshot, products: fares.snapshot.products.map((product) => ({ ...product, onSale: product.productId !== 'metro-day' })) });
    expect(domainErrorCode(() => priceOrderItems(offSale, [{ productId: 'metro-day' }], 'adult', NOW, 30))).toBe('PRODUCT_NOT_ON_SALE');
  });

  it('keeps the price a product had when it was sold: a later version does not reach back', () => {
    const later = { ...HANOI_PRODUCTS.find((product) => product.productId === 'metro-day')!, effectiveFrom: NOW + 1, versionId: 'metro-day@later', prices: { ...HANOI_PRODUCTS.find((p) => p.productId === 'metro-day')!.prices!, adult: 45_000 } };
    const repriced = new FareCalculator({ ...fares.snapshot, products: [...fares.snapshot.products, later] });
    expect(priceOrderItems(repriced, [{ productId: 'metro-day' }], 'adult', NOW, 30)[0]).toMatchObject({ unitPrice: 40_000, productVersionId: expect.not.stringContaining('later') });
    expect(priceOrderItems(repriced, [{ productId: 'metro-day' }], 'adult', NOW + 2, 30)[0]).toMatchObject({ unitPrice: 45_000, productVersionId: 'metro-day@later' });
  });
});
