import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { TRANSPORT_MODES, type TransportMode } from '../network/hanoi-network';
import { CAP_PERIODS, FARE_METHODS, PRODUCT_KINDS, type CapPeriod, type ProductKind } from './domain/fare-model';
import { RIDER_CATEGORIES, type RiderCategory } from './rider-category';
import { FreeText, ID_PATTERN, MayBeOmitted } from '../common/dto-decorators';

/** The largest amount of money any fare datum may hold: 100 million đồng. */
const MAX_AMOUNT = 100_000_000;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 date-time with an offset, e.g. 2026-07-01T00:00:00+07:00. */
export function IsInstant(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    Matches(INSTANT, { message: '$property must be an ISO 8601 date-time with an offset, e.g. 2026-07-01T00:00:00+07:00' }),
    IsISO8601({ strict: true }, { message: '$property is not a valid date-time' }),
  );
}

/** A non-negative whole number of đồng. */
function IsAmount(): PropertyDecorator {
  return applyDecorators(IsInt(), Min(0), Max(MAX_AMOUNT));
}

function IsModes(): PropertyDecorator {
  return applyDecorators(IsArray(), ArrayMinSize(1), ArrayUnique(), IsIn(TRANSPORT_MODES, { each: true }));
}

function IsLineIds(): PropertyDecorator {
  return applyDecorators(MayBeOmitted(), IsArray(), ArrayMinSize(1), ArrayMaxSize(500), ArrayUnique(), IsString({ each: true }), MaxLength(64, { each: true }));
}

// ---- reads ----

export class ListProductsQuery {
  @ApiPropertyOptional({ enum: TRANSPORT_MODES, description: 'Only products valid on this mode' })
  @IsOptional()
  @IsIn(TRANSPORT_MODES)
  mode?: TransportMode;

  @ApiPropertyOptional({ enum: RIDER_CATEGORIES, description: 'Adds `price`, the price for this category' })
  @IsOptional()
  @IsIn(RIDER_CATEGORIES)
  riderCategory?: RiderCategory;

  @ApiPropertyOptional({ example: '2026-07-01T08:00:00+07:00', description: 'The catalogue in force at this instant (default: now)' })
  @IsOptional()
  @IsInstant()
  at?: string;
}

export class QuoteQuery {
  @ApiPropertyOptional({ example: 'metro-2a', description: 'Optional: the line both stations must be on' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  lineId?: string;

  @ApiProperty({ example: '2a-cat-linh', description: 'Entry station id' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  from!: string;

  @ApiProperty({ example: '2a-yen-nghia', description: 'Exit station id' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  to!: string;

  @ApiPropertyOptional({ enum: RIDER_CATEGORIES, description: "Default: the signed-in passenger's category, else adult" })
  @IsOptional()
  @IsIn(RIDER_CATEGORIES)
  riderCategory?: RiderCategory;

  @ApiPropertyOptional({ example: '2026-07-01T08:00:00+07:00', description: 'When the trip starts (default: now)' })
  @IsOptional()
  @IsInstant()
  at?: string;
}

export class FareQuoteDto {
  @ApiProperty({ example: 18625, description: 'Electronic fare in đồng: what the gate charges' }) amount!: number;
  @ApiProperty({ example: 19000, description: 'Cash fare: the electronic fare rounded up to the thousand' }) cashAmount!: number;
  @ApiProperty({ example: 18625, description: 'The fare before rider-category exemptions and waivers' }) fullAmount!: number;
  @ApiProperty({ example: 'VND' }) currency!: 'VND';
  @ApiProperty({ example: 12.5 }) distanceKm!: number;
  @ApiProperty({ example: 'metro-2a' }) lineId!: string;
  @ApiProperty({ enum: RIDER_CATEGORIES }) riderCategory!: RiderCategory;
  @ApiProperty({ example: 'hanoi-2025-08-01:metro-distance', description: '<fareTableId>:<rule id>' }) ruleId!: string;
  @ApiProperty({ example: 'hanoi-2025-08-01' }) fareTableId!: string;
  @ApiProperty({ type: String, nullable: true, example: null, description: 'The waiver that made the trip free' }) waiverId!: string | null;
  @ApiProperty({ example: '2026-07-01T01:00:00.000Z' }) at!: string;
}

export class PricesDto {
  @ApiProperty({ example: 280000 }) @IsAmount() adult!: number;
  @ApiProperty({ example: 140000 }) @IsAmount() priority!: number;
  @ApiProperty({ example: 0 }) @IsAmount() elderly!: number;
  @ApiProperty({ example: 0 }) @IsAmount() disabled!: number;
  @ApiProperty({ example: 0 }) @IsAmount() meritorious!: number;
  @ApiProperty({ example: 0 }) @IsAmount() poor_household!: number;
  @ApiProperty({ example: 0 }) @IsAmount() child!: number;
}

export class ValidityDto {
  @ApiProperty({ enum: ['single_trip', 'days', 'open'], description: 'single_trip: one trip; days: consecutive local days from the first; open: stored value' })
  kind!: 'single_trip' | 'days' | 'open';
  @ApiProperty({ type: Number, nullable: true, example: 30 }) days!: number | null;
}

export class ProductDto {
  @ApiProperty({ example: 'metro-month' }) id!: string;
  @ApiProperty({ example: 'metro-month@2025-07-31T17:00:00.000Z', description: 'The version; orders record it' }) versionId!: string;
  @ApiProperty({ example: 'Metro month pass' }) name!: string;
  @ApiProperty({ enum: PRODUCT_KINDS }) kind!: ProductKind;
  @ApiProperty({ enum: TRANSPORT_MODES, isArray: true }) modes!: TransportMode[];
  @ApiProperty({ type: [String], nullable: true, description: 'null: every line of the modes' }) lines!: string[] | null;
  @ApiProperty({ description: 'Valid on one line of its modes, chosen at purchase' }) singleLine!: boolean;
  @ApiProperty({ type: ValidityDto }) validity!: ValidityDto;
  @ApiProperty({ type: PricesDto, nullable: true, description: 'null for single trips (priced by distance, see /v1/fares/quote) and stored value' })
  prices!: PricesDto | null;
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'The price for the riderCategory asked for' }) price?: number | null;
  @ApiProperty({ enum: CAP_PERIODS, nullable: true, description: 'This pass caps pay-as-you-go spend over a local day or week' })
  payAsYouGoCap!: CapPeriod | null;
  @ApiProperty() onSale!: boolean;
  @ApiProperty({ example: '2025-07-31T17:00:00.000Z' }) effectiveFrom!: string;
  @ApiProperty({ example: 'VND' }) currency!: 'VND';
}

// ---- admin writes ----

export class CreateProductDto {
  @ApiProperty({ example: 'metro-weekend', description: 'Lower-case letters, digits and dashes' })
  @Matches(ID_PATTERN, { message: '$property must be lower-case letters, digits and dashes (at most 64)' })
  id!: string;

  @ApiProperty({ example: 'Metro weekend pass' }) @FreeText(200) name!: string;
  @ApiProperty({ enum: PRODUCT_KINDS }) @IsIn(PRODUCT_KINDS) kind!: ProductKind;
  @ApiProperty({ enum: TRANSPORT_MODES, isArray: true }) @IsModes() modes!: TransportMode[];
  @ApiPropertyOptional({ type: [String], description: 'Limit to these lines (default: every line of the modes)' }) @IsLineIds() lineIds?: string[];
  @ApiPropertyOptional({ default: false }) @MayBeOmitted() @IsBoolean() singleLine?: boolean;
  @ApiPropertyOptional({ example: 2, description: 'Passes only: consecutive local days of validity' }) @MayBeOmitted() @IsInt() @Min(1) @Max(3660) validityDays?: number;
  @ApiPropertyOptional({ type: PricesDto, description: 'Passes only: the price for every rider category' })
  @MayBeOmitted()
  @IsObject()
  @ValidateNested()
  @Type(() => PricesDto)
  prices?: PricesDto;
  @ApiPropertyOptional({ enum: CAP_PERIODS, description: 'Passes only: cap pay-as-you-go spend over this period at the price' })
  @MayBeOmitted()
  @IsIn(CAP_PERIODS)
  payAsYouGoCap?: CapPeriod;
  @ApiPropertyOptional({ default: true }) @MayBeOmitted() @IsBoolean() onSale?: boolean;
  @ApiPropertyOptional({ example: '2027-01-01T00:00:00+07:00', description: 'Default: now. Never in the past.' }) @MayBeOmitted() @IsInstant() effectiveFrom?: string;
}

/** A new version of a product: the fields given replace those of the version in force at effectiveFrom. */
export class AmendProductDto {
  @ApiPropertyOptional() @MayBeOmitted() @FreeText(200) name?: string;
  @ApiPropertyOptional({ enum: TRANSPORT_MODES, isArray: true }) @MayBeOmitted() @IsModes() modes?: TransportMode[];
  @ApiPropertyOptional({ type: [String], nullable: true, description: 'null: every line of the modes' })
  @ValidateIf((_, value) => value !== null)
  @IsLineIds()
  lineIds?: string[] | null;
  @ApiPropertyOptional() @MayBeOmitted() @IsBoolean() singleLine?: boolean;
  @ApiPropertyOptional() @MayBeOmitted() @IsInt() @Min(1) @Max(3660) validityDays?: number;
  @ApiPropertyOptional({ type: PricesDto }) @MayBeOmitted() @IsObject() @ValidateNested() @Type(() => PricesDto) prices?: PricesDto;
  @ApiPropertyOptional({ enum: CAP_PERIODS, nullable: true })
  @ValidateIf((_, value) => value !== null)
  @MayBeOmitted()
  @IsIn(CAP_PERIODS)
  payAsYouGoCap?: CapPeriod | null;
  @ApiPropertyOptional() @MayBeOmitted() @IsBoolean() onSale?: boolean;
  @ApiPropertyOptional({ example: '2027-01-01T00:00:00+07:00', description: 'Default: now. Never in the past.' }) @MayBeOmitted() @IsInstant() effectiveFrom?: string;
}

export class RouteLengthBandDto {
  @ApiProperty({ example: 15000, description: 'Routes at least this many metres long pay amount' }) @IsInt() @Min(0) @Max(10_000_000) minLengthM!: number;
  @ApiProperty({ example: 10000 }) @IsAmount() amount!: number;
}

/** A rule's field is checked when its method needs it, and whenever it is sent at all. */
function usedBy(method: (typeof FARE_METHODS)[number]): (rule: FareRuleDto, value: unknown) => boolean {
  return (rule, value) => rule.method === method || value !== undefined;
}

export class FareRuleDto {
  @ApiProperty({ example: 'metro-distance' }) @Matches(ID_PATTERN, { message: '$property must be lower-case letters, digits and dashes (at most 64)' }) id!: string;
  @ApiProperty({ enum: TRANSPORT_MODES, isArray: true }) @IsModes() modes!: TransportMode[];
  @ApiPropertyOptional({ type: [String], description: 'Only these lines; wins over rules for the whole mode' }) @IsLineIds() lineIds?: string[];
  @ApiProperty({ enum: FARE_METHODS }) @IsIn(FARE_METHODS) method!: (typeof FARE_METHODS)[number];
  @ApiPropertyOptional({ example: 8000, description: 'distance: fixed part' }) @ValidateIf(usedBy('distance')) @IsAmount() baseAmount?: number;
  @ApiPropertyOptional({ example: 850, description: 'distance: đồng per km, applied per metre and rounded down' })
  @ValidateIf(usedBy('distance'))
  @IsAmount()
  perKmAmount?: number;
  @ApiPropertyOptional({ description: 'distance: the least fare' }) @MayBeOmitted() @IsAmount() minAmount?: number;
  @ApiPropertyOptional({ description: 'distance: the greatest fare' }) @MayBeOmitted() @IsAmount() maxAmount?: number;
  @ApiPropertyOptional({ type: [RouteLengthBandDto], description: 'route_length_bands: ascending, the first from 0 m' })
  @ValidateIf(usedBy('route_length_bands'))
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => RouteLengthBandDto)
  bands?: RouteLengthBandDto[];
  @ApiProperty({ example: 1000, description: 'Cash fares round up to a multiple of this (1: none)' }) @IsInt() @Min(1) @Max(1_000_000) cashRoundingUnit!: number;
}

export class CreateFareTableDto {
  @ApiProperty({ example: '2027-01-01T00:00:00+07:00', description: 'Never in the past; unique' }) @IsInstant() effectiveFrom!: string;
  @ApiProperty({ enum: RIDER_CATEGORIES, isArray: true, example: ['elderly', 'disabled', 'meritorious', 'poor_household', 'child'] })
  @IsArray()
  @ArrayUnique()
  @IsIn(RIDER_CATEGORIES, { each: true })
  freeRiderCategories!: RiderCategory[];
  @ApiProperty({ type: [FareRuleDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => FareRuleDto)
  rules!: FareRuleDto[];
}

export class FareTableDto {
  @ApiProperty({ example: 'fare-table@2027-01-01T00:00:00.000Z' }) id!: string;
  @ApiProperty() effectiveFrom!: string;
  @ApiProperty({ enum: RIDER_CATEGORIES, isArray: true }) freeRiderCategories!: RiderCategory[];
  @ApiProperty({ type: [FareRuleDto] }) rules!: FareRuleDto[];
}

export class CreateWaiverDto {
  @ApiProperty({ example: 'Tết 2027: all riders free' }) @FreeText(200) name!: string;
  @ApiProperty({ example: '2027-02-05T00:00:00+07:00', description: 'First instant of the waiver; never in the past' }) @IsInstant() effectiveFrom!: string;
  @ApiProperty({ example: '2027-02-12T00:00:00+07:00', description: 'First instant after the waiver' }) @IsInstant() effectiveUntil!: string;
  @ApiPropertyOptional({ type: [String] }) @IsLineIds() lineIds?: string[];
  @ApiPropertyOptional({ enum: TRANSPORT_MODES, isArray: true }) @MayBeOmitted() @IsModes() modes?: TransportMode[];
  @ApiPropertyOptional({ enum: RIDER_CATEGORIES, isArray: true })
  @MayBeOmitted()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(RIDER_CATEGORIES, { each: true })
  riderCategories?: RiderCategory[];
  @ApiPropertyOptional({ example: 'ring-road-1', description: 'Only trips that start and end inside this zone' })
  @MayBeOmitted()
  @IsString()
  @MaxLength(64)
  zoneId?: string;
}

export class WaiverDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() effectiveFrom!: string;
  @ApiProperty() effectiveUntil!: string;
  @ApiProperty({ type: [String], nullable: true }) lineIds!: string[] | null;
  @ApiProperty({ enum: TRANSPORT_MODES, isArray: true, nullable: true }) modes!: TransportMode[] | null;
  @ApiProperty({ enum: RIDER_CATEGORIES, isArray: true, nullable: true }) riderCategories!: RiderCategory[] | null;
  @ApiProperty({ type: String, nullable: true }) zoneId!: string | null;
}
