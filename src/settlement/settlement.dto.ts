import { TIDES_FARE_MEDIA } from '../media/medium-kinds';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { IsId } from '../common/dto-decorators';
import { ALLOCATION_KEYS } from './domain/allocation';

const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

export class DailyStatementQuery {
  @ApiProperty({ example: '2026-11-21', description: 'The local day (Asia/Ho_Chi_Minh)' })
  @Matches(LOCAL_DATE, { message: 'date must be a local date YYYY-MM-DD' })
  date!: string;

  @ApiPropertyOptional({ example: 'hmc', description: "Operator staff: only their own (the default). Admins: any; none for the scheme-wide statement" })
  @IsOptional()
  @IsId()
  operatorId?: string;
}

export const FARE_TRANSACTION_FORMATS = ['json', 'csv', 'datapackage'] as const;
export type FareTransactionFormat = (typeof FARE_TRANSACTION_FORMATS)[number];

export class FareTransactionsQuery extends DailyStatementQuery {
  @ApiPropertyOptional({ enum: FARE_TRANSACTION_FORMATS, default: 'json', description: 'json: an array of rows; csv: fare_transactions.csv; datapackage: a TIDES v1.0 data package (zip)' })
  @IsOptional()
  @IsIn(FARE_TRANSACTION_FORMATS)
  format?: FareTransactionFormat;
}

class CheckDto {
  @ApiProperty({ description: "The day's revenue: single tickets sold and not refunded, pass day parts, pay-as-you-go and bank-card fares collected" }) revenue!: number;
  @ApiProperty({ description: 'Late events of closed days landing on this day, and bank-card debts recovered on it' }) adjustments!: number;
  @ApiProperty({ description: 'Allocated to operators, adjustments included' }) allocated!: number;
  @ApiProperty({ description: 'Shown unallocated (passes not used that day), adjustments included' }) unallocated!: number;
  @ApiProperty({ description: 'revenue + adjustments = allocated + unallocated, to the đồng' }) balanced!: boolean;
}

class OperatorLineDto {
  @ApiProperty() operatorId!: string;
  @ApiProperty() singleTickets!: number;
  @ApiProperty({ description: 'Day parts of passes valid on this operator only' }) passes!: number;
  @ApiProperty() payAsYouGo!: number;
  @ApiPropertyOptional({ description: "Bank-card fares of the day's journeys on this operator's lines collected by the card's charge" }) bankCards?: number;
  @ApiProperty({ description: "Share of network passes' day parts, by each product's key" }) passAllocation!: number;
  @ApiProperty() adjustments!: number;
  @ApiProperty() total!: number;
}

class AllocationKeyDto {
  @ApiProperty({ enum: ALLOCATION_KEYS }) key!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, nullable: true, description: 'Fixed shares: operator id → weight' }) shares!: Record<string, number> | null;
  @ApiProperty({ enum: ['table', 'default'] }) source!: string;
  @ApiProperty({ nullable: true, type: String }) effectiveFrom!: string | null;
  @ApiProperty() note!: string;
}

class PassAllocationDto {
  @ApiProperty() productId!: string;
  @ApiProperty({ type: AllocationKeyDto }) allocationKey!: AllocationKeyDto;
  @ApiProperty({ enum: ALLOCATION_KEYS }) appliedKey!: string;
  @ApiProperty() passesUsed!: number;
  @ApiProperty() amount!: number;
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: '{operatorId, trips, passengerKm, weight, amount}' }) operators!: object[];
  @ApiProperty() unallocated!: number;
}

export class DailyStatementDto {
  @ApiProperty({ example: '2026-11-21' }) date!: string;
  @ApiProperty({ example: 'Asia/Ho_Chi_Minh' }) timeZone!: string;
  @ApiProperty({ example: 'VND' }) currency!: string;
  @ApiProperty({ nullable: true, type: String, description: 'null: the scheme-wide statement' }) operatorId!: string | null;
  @ApiProperty({ enum: ['open', 'closed'] }) status!: string;
  @ApiProperty({ nullable: true, type: String }) closedAt!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'SHA-256 of the closed statement\'s canonical JSON (keys sorted, this field null)' }) sha256!: string | null;
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Allocation keys in force that day: {productId, key, shares, effectiveFrom, note}' }) allocationKeys!: object[];
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Tickets sold: {productId, riderCategory, kind, operatorId, count, amount}' }) sales!: object[];
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Tickets refunded, same shape' }) refunds!: object[];
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: '{operatorId, lineId, journeys, charged, unpaid, collected}' }) payAsYouGo!: object[];
  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'object' },
    description:
      "Bank-card journeys of the day (a card's own, or an account's its linked card pays) by line: {operatorId, lineId, journeys, fares, collected (the card's charge captured at the first ask), declined (its charge was declined: at risk, even once recovered), notCharged (no charge captured yet), declinedJourneys, notChargedJourneys}",
  })
  bankCards?: object[];
  @ApiProperty({ type: 'object', additionalProperties: true, description: '{singleTickets, passDayParts, payAsYouGo, bankCards, total}' }) revenue!: object;
  @ApiProperty({ type: [OperatorLineDto] }) operators!: OperatorLineDto[];
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Passes valid on one operator: {productId, operatorId, passes, amount}' }) directPasses!: object[];
  @ApiProperty({ type: [PassAllocationDto] }) passAllocation!: PassAllocationDto[];
  @ApiProperty({ type: 'object', additionalProperties: true, description: '{unusedPasses: [{productId, passes, amount}], poolRemainders, total}' }) unallocated!: object;
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Rides of riders who travel free, for the city subsidy, by line and medium kind: {operatorId, lineId, mediumKind, rides, passengerKm}' }) freeRides!: object[];
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: '{operatorId, lineId, reason, taps}' }) rejectedTaps!: object[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'Offline taps accepted but invalid, and bank-card fares declined (reason CARD_DECLINED) or not charged yet (CARD_NOT_CHARGED; `taps` counts journeys): {operatorId, lineId, reason, taps, fareAtRisk}',
  })
  revenueAtRisk!: object[];
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Journeys timed out at the maximum fare: {operatorId, lineId, subjectKind, journeys, charged}' }) maximumFareJourneys!: object[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description:
      "Late events of closed days {belongsTo, operatorId (null: unallocated), amount}, and bank-card debts recovered on this day {belongsTo: the journeys' day, operatorId, amount, reason: recovered_card_debt}",
  })
  adjustments!: object[];
  @ApiProperty({ type: CheckDto }) check!: CheckDto;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'Outside the check: support adjustments {operatorId (null: the scheme), reason, count, amount}, maximum-fare corrections {operatorId, kind, count, refunded} and penalty revenue {operatorId, count, amount} of the day',
  })
  customerService?: object;
}

const nullString = { type: 'string', nullable: true } as const;
const alwaysNull = { type: 'string', nullable: true, enum: [null], description: 'Not recorded by this service (always null)' } as const;

/** One row of GET /v1/fare-transactions?format=json: TIDES v1.0 fare_transactions, every column. */
export class TidesFareTransactionDto {
  @ApiProperty() transaction_id!: string;
  @ApiProperty({ example: '2026-07-01' }) service_date!: string;
  @ApiProperty({ example: '2026-07-01T01:02:03Z', description: 'UTC, whole seconds' }) event_timestamp!: string;
  @ApiProperty(alwaysNull) location_ping_id!: null;
  @ApiProperty({ description: 'đồng' }) amount!: number;
  @ApiProperty({ enum: ['VND'] }) currency_type!: 'VND';
  @ApiProperty({ enum: ['Purchase', 'Add', 'Activate', 'Adjust', 'Enter', 'Exit'] }) fare_action!: string;
  @ApiProperty(alwaysNull) trip_id_performed!: null;
  @ApiProperty(alwaysNull) trip_id_scheduled!: null;
  @ApiProperty(alwaysNull) pattern_id!: null;
  @ApiProperty({ ...alwaysNull, type: 'integer' }) trip_stop_sequence!: null;
  @ApiProperty({ ...alwaysNull, type: 'integer' }) scheduled_stop_sequence!: null;
  @ApiProperty(alwaysNull) vehicle_id!: null;
  @ApiProperty(nullString) device_id!: string | null;
  @ApiProperty(alwaysNull) fare_id!: null;
  @ApiProperty(nullString) stop_id!: string | null;
  @ApiProperty({ enum: [1] }) num_riders!: 1;
  @ApiProperty({ type: 'string', nullable: true, enum: [...new Set(Object.values(TIDES_FARE_MEDIA)), null] }) fare_media_id!: string | null;
  @ApiProperty(nullString) rider_category!: string | null;
  @ApiProperty(nullString) fare_product!: string | null;
  @ApiProperty(alwaysNull) fare_period!: null;
  @ApiProperty() fare_capped!: boolean;
  @ApiProperty(nullString) token_id!: string | null;
  @ApiProperty({ type: 'number', nullable: true, description: 'Pay as you go and top-ups: wallet balance after the transaction (đồng)' }) balance!: number | null;
}
