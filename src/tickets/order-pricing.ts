import { DomainError } from '../common/domain-error';
import type { FareCalculator } from '../fares/domain/fare-calculator';
import { localDayNumber } from '../fares/domain/local-time';
import type { RiderCategory } from '../fares/rider-category';
import type { TransportMode } from '../network/hanoi-network';

/** One line of an order as the passenger asked for it. */
export interface OrderItemRequest {
  productId: string;
  quantity?: number;
  /** Passes: the local date the pass starts (YYYY-MM-DD); without it, it starts on first use. */
  validFrom?: string;
  originStationId?: string;
  destinationStationId?: string;
  /** Single-route passes: the route chosen. */
  lineId?: string;
}

/** An order line priced at purchase: everything needed to issue its tickets later at this price. */
export interface PricedItem {
  productId: string;
  productVersionId: string;
  name: string;
  kind: 'single' | 'pass';
  quantity: number;
  unitPrice: number;
  modes: TransportMode[];
  /** null: every line of the modes. */
  lineIds: string[] | null;
  originStationId: string | null;
  destinationStationId: string | null;
  fareRuleId: string | null;
  validityDays: number | null;
  /** Passes bought with a start date: the local date (YYYY-MM-DD). */
  validFrom: string | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Prices an order with the fare engine as it stands at `now`: single trips by the fare table for
 * the rider's category between the two stations, passes by the product's price for that category.
 */
export function priceOrderItems(
  calculator: FareCalculator,
  items: readonly OrderItemRequest[],
  riderCategory: RiderCategory,
  now: number,
  passStartWithinDays: number,
): PricedItem[] {
  return items.map((item, index) => priceItem(calculator, item, `items.${index}`, riderCategory, now, passStartWithinDays));
}

function priceItem(
  calculator: FareCalculator,
  item: OrderItemRequest,
  field: string,
  riderCategory: RiderCategory,
  now: number,
  passStartWithinDays: number,
): PricedItem {
  const product = calculator.productAt(item.productId, now);
  if (!product) throw new DomainError('not_found', 'UNKNOWN_PRODUCT', `Product ${JSON.stringify(item.productId)} does not exist`, [{ field: `${field}.productId`, problem: 'no such product' }]);
  if (!product.onSale) throw new DomainError('refused', 'PRODUCT_NOT_ON_SALE', `${product.name} is not on sale`, [{ field: `${field}.productId`, problem: 'not on sale' }]);
  const common = { productId: product.productId, productVersionId: product.versionId, name: product.name, quantity: item.quantity ?? 1 };
  switch (product.kind) {
    case 'stored_value':
      throw new DomainError('refused', 'PRODUCT_NOT_SOLD_AS_TICKET', 'Pay as you go needs no ticket: top up the wallet and show the account QR (GET /v1/me/qr)', [
        { field: `${field}.productId`, problem: 'is the stored-value product' },
      ]);
    case 'single': {
      rejectFields(item, field, ['validFrom'], 'a single trip');
      if (item.originStationId === undefined || item.destinationStationId === undefined) {
        throw invalid('ORIGIN_DESTINATION_REQUIRED', 'A single trip needs originStationId and destinationStationId', `${field}.originStationId`, 'is required with destinationStationId');
      }
      if (item.originStationId === item.destinationStationId) {
        throw invalid('SAME_STATION', 'The origin and the destination are the same station', `${field}.destinationStationId`, 'equals originStationId');
      }
      const quote = calculator.quote(item.lineId ?? null, item.originStationId, item.destinationStationId, riderCategory, now);
      if (!product.modes.includes(quote.mode) || (product.lineIds !== null && !product.lineIds.includes(quote.lineId))) {
        throw new DomainError('refused', 'PRODUCT_NOT_VALID_ON_LINE', `${product.name} is not valid on line ${quote.lineId}`, [{ field: `${field}.productId`, problem: `not valid on ${quote.lineId}` }]);
      }
      return {
        ...common,
        kind: 'single',
        unitPrice: quote.amount,
        modes: [quote.mode],
        lineIds: [quote.lineId],
        originStationId: item.originStationId,
        destinationStationId: item.destinationStationId,
        fareRuleId: quote.ruleId,
        validityDays: null,
        validFrom: null,
      };
    }
    case 'pass': {
      rejectFields(item, field, ['originStationId', 'destinationStationId'], 'a pass');
      const price = product.prices?.[riderCategory];
      if (price === undefined || product.validityDays === null) {
        throw new DomainError('refused', 'NO_PRICE', `${product.name} has no price for ${riderCategory} riders`);
      }
      let lineIds = product.lineIds ? [...product.lineIds] : null;
      if (product.singleLine) {
        if (item.lineId === undefined) throw invalid('LINE_REQUIRED', `${product.name} is valid on one route: choose it with lineId`, `${field}.lineId`, 'is required');
        const line = calculator.snapshot.lines.find((candidate) => candidate.id === item.lineId);
        if (!line || !product.modes.includes(line.mode) || (lineIds !== null && !lineIds.includes(line.id))) {
          throw new DomainError('refused', 'PRODUCT_NOT_VALID_ON_LINE', `${product.name} is not valid on line ${item.lineId}`, [{ field: `${field}.lineId`, problem: 'not covered by the product' }]);
        }
        lineIds = [line.id];
      } else {
        rejectFields(item, field, ['lineId'], 'a pass valid on more than one route');
      }
      if (item.validFrom !== undefined) checkPassStart(item.validFrom, `${field}.validFrom`, now, passStartWithinDays);
      return {
        ...common,
        kind: 'pass',
        unitPrice: price,
        modes: [...product.modes],
        lineIds,
        originStationId: null,
        destinationStationId: null,
        fareRuleId: null,
        validityDays: product.validityDays,
        validFrom: item.validFrom ?? null,
      };
    }
  }
}

/** The local day number of a YYYY-MM-DD date. */
export function dayNumberOfDate(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

function checkPassStart(date: string, field: string, now: number, withinDays: number): void {
  const today = localDayNumber(now);
  const day = dayNumberOfDate(date);
  if (day < today || day > today + withinDays) {
    throw invalid('INVALID_VALID_FROM', `A pass starts today or within ${withinDays} days (local dates)`, field, `must be a local date from today to ${withinDays} days ahead`);
  }
}

function rejectFields(item: OrderItemRequest, field: string, names: ReadonlyArray<keyof OrderItemRequest>, what: string): void {
  const present = names.filter((name) => item[name] !== undefined);
  if (present.length) {
    throw new DomainError('invalid', 'FIELD_NOT_APPLICABLE', `${present.join(', ')} do not apply to ${what}`, present.map((name) => ({ field: `${field}.${name}`, problem: `does not apply to ${what}` })));
  }
}

function invalid(code: string, message: string, field: string, problem: string): DomainError {
  return new DomainError('invalid', code, message, [{ field, problem }]);
}
