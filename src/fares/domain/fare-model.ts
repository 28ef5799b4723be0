import type { TransportMode } from '../../network/hanoi-network';
import type { RiderCategory } from '../rider-category';

/**
 * Fare data as the calculator reads it: plain, immutable, already validated. Instants are epoch
 * milliseconds; money is integer đồng; distances are integer metres.
 */

export interface NetworkStation {
  readonly id: string;
  readonly name: string;
  readonly positionM: number;
}

export interface NetworkLine {
  readonly id: string;
  readonly code: string;
  readonly name: string;
  readonly mode: TransportMode;
  readonly operatorId: string;
  /** In travel order. */
  readonly stations: readonly NetworkStation[];
}

/** A fare area, e.g. "inside Ring Road 1"; waivers can be limited to trips wholly inside one. */
export interface FareZone {
  readonly id: string;
  readonly name: string;
  readonly stationIds: readonly string[];
}

interface FareRuleBase {
  /** Unique within its fare table. */
  readonly id: string;
  readonly modes: readonly TransportMode[];
  /** When set, the rule covers these lines only and wins over rules for the whole mode. */
  readonly lineIds: readonly string[] | null;
  /** Cash fares are the electronic fare rounded up to a multiple of this (1: no rounding). */
  readonly cashRoundingUnit: number;
}

/** base + perKm × km travelled between the two stations, optionally clamped. */
export interface DistanceFareRule extends FareRuleBase {
  readonly method: 'distance';
  readonly baseAmount: number;
  readonly perKmAmount: number;
  readonly minAmount: number | null;
  readonly maxAmount: number | null;
}

export interface RouteLengthBand {
  /** Routes at least this long (and shorter than the next band) pay `amount`. */
  readonly minLengthM: number;
  readonly amount: number;
}

/** A flat fare per route, set by the length of the whole route (Hà Nội's bus bands since 1 Nov 2024). */
export interface RouteLengthBandsFareRule extends FareRuleBase {
  readonly method: 'route_length_bands';
  /** Ascending by minLengthM; the first starts at 0. */
  readonly bands: readonly RouteLengthBand[];
}

export type FareRule = DistanceFareRule | RouteLengthBandsFareRule;
export const FARE_METHODS = ['distance', 'route_length_bands'] as const;

/** One version of the whole tariff for single trips; it is in force from effectiveFrom until the next. */
export interface FareTable {
  readonly id: string;
  readonly effectiveFrom: number;
  /** Categories that ride free under this table (they are still quoted, for the city's subsidy). */
  readonly freeRiderCategories: readonly RiderCategory[];
  readonly rules: readonly FareRule[];
}

export const PRODUCT_KINDS = ['single', 'pass', 'stored_value'] as const;
export type ProductKind = (typeof PRODUCT_KINDS)[number];

export const CAP_PERIODS = ['day', 'week'] as const;
export type CapPeriod = (typeof CAP_PERIODS)[number];

/** One version of a product; what was sold keeps the version (and price) it was sold at. */
export interface ProductVersion {
  readonly productId: string;
  readonly versionId: string;
  readonly effectiveFrom: number;
  readonly name: string;
  readonly kind: ProductKind;
  readonly modes: readonly TransportMode[];
  /** null: every line of the modes. */
  readonly lineIds: readonly string[] | null;
  /** Valid on one line of its modes, chosen at purchase (Hà Nội's single-route bus passes). */
  readonly singleLine: boolean;
  /** Passes: consecutive local days of validity. null for single trips and stored value. */
  readonly validityDays: number | null;
  /** Passes: price per rider category. null for single trips (priced by the fare table) and stored value. */
  readonly prices: Readonly<Record<RiderCategory, number>> | null;
  /** A day or week pass whose price caps pay-as-you-go spend over that period. */
  readonly payAsYouGoCap: CapPeriod | null;
  readonly onSale: boolean;
}

/** Trips matching every set limit, between startsAt (inclusive) and endsAt (exclusive), cost nothing. */
export interface FareWaiver {
  readonly id: string;
  readonly name: string;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly lineIds: readonly string[] | null;
  readonly modes: readonly TransportMode[] | null;
  readonly riderCategories: readonly RiderCategory[] | null;
  /** Only trips that start and end at stations of this zone. */
  readonly zoneId: string | null;
}

/** Everything the calculator needs, loaded once and swapped whole when fare data changes. */
export interface FareSnapshot {
  readonly lines: readonly NetworkLine[];
  readonly zones: readonly FareZone[];
  readonly fareTables: readonly FareTable[];
  readonly products: readonly ProductVersion[];
  readonly waivers: readonly FareWaiver[];
}
