import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { RIDER_CATEGORIES, type RiderCategory } from '../fares/rider-category';
import { TRANSPORT_MODES, type TransportMode } from '../network/hanoi-network';
import { PaymentDto } from '../payments/payments.dto';
import { FreeText, ID_PATTERN, MayBeOmitted, PageLimit } from '../common/dto-decorators';

export class OrderItemDto {
  @ApiProperty({ example: 'metro-single' })
  @IsString()
  @Matches(ID_PATTERN, { message: '$property must be a product id' })
  productId!: string;

  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: 10 })
  @MayBeOmitted()
  @IsInt()
  @Min(1)
  @Max(10)
  quantity?: number;

  @ApiPropertyOptional({ example: '2026-12-01', description: 'Passes: the local date the pass starts; without it, the pass starts on first use' })
  @MayBeOmitted()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: '$property must be a date, YYYY-MM-DD' })
  @IsISO8601({ strict: true }, { message: '$property is not a valid date' })
  validFrom?: string;

  @ApiPropertyOptional({ example: '2a-cat-linh', description: 'Single trips: where the trip starts' })
  @MayBeOmitted()
  @IsString()
  @MaxLength(64)
  originStationId?: string;

  @ApiPropertyOptional({ example: '2a-ha-dong', description: 'Single trips: where the trip ends' })
  @MayBeOmitted()
  @IsString()
  @MaxLength(64)
  destinationStationId?: string;

  @ApiPropertyOptional({ example: 'bus-32', description: 'Single-route passes: the route; single trips: optional check of the stations\' line' })
  @MayBeOmitted()
  @IsString()
  @MaxLength(64)
  lineId?: string;
}

export class CreateOrderDto {
  @ApiProperty({ type: [OrderItemDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @ValidateNested({ each: true })
  @Type(() => OrderItemDto)
  items!: OrderItemDto[];

  @ApiProperty({ enum: ['wallet', 'gateway'] })
  @IsIn(['wallet', 'gateway'])
  payWith!: 'wallet' | 'gateway';
}

export const TICKET_STATUSES = ['active', 'refunded', 'revoked'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export class TicketDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) orderId!: string;
  @ApiProperty({ example: 'metro-single' }) productId!: string;
  @ApiProperty({ description: 'The product version it was sold under' }) productVersionId!: string;
  @ApiProperty({ enum: ['single', 'pass'] }) kind!: 'single' | 'pass';
  @ApiProperty({ enum: TICKET_STATUSES }) status!: TicketStatus;
  @ApiProperty({ enum: RIDER_CATEGORIES }) riderCategory!: RiderCategory;
  @ApiProperty({ example: 18_625, description: 'What was paid for it, integer đồng' }) price!: number;
  @ApiProperty({ example: 'VND' }) currency!: 'VND';
  @ApiProperty({ enum: TRANSPORT_MODES, isArray: true }) modes!: TransportMode[];
  @ApiProperty({ type: [String], nullable: true, description: 'null: every line of the modes' }) lineIds!: string[] | null;
  @ApiPropertyOptional() originStationId?: string;
  @ApiPropertyOptional() destinationStationId?: string;
  @ApiProperty({ enum: ['fixed', 'first_use'], description: 'first_use: the validity window starts at the first tap' }) activation!: 'fixed' | 'first_use';
  @ApiPropertyOptional({ format: 'date-time' }) validFrom?: string;
  @ApiPropertyOptional({ format: 'date-time' }) validUntil?: string;
  @ApiPropertyOptional({ description: 'Passes: consecutive local days of validity' }) validityDays?: number;
  @ApiPropertyOptional({ format: 'date-time', description: 'Passes starting on first use: the latest first use' }) firstUseBy?: string;
  @ApiPropertyOptional({ format: 'date-time' }) firstUsedAt?: string;
  @ApiProperty({ format: 'date-time' }) issuedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) refundedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) revokedAt?: string;
}

export class OrderItemSummaryDto {
  @ApiProperty() productId!: string;
  @ApiProperty() productVersionId!: string;
  @ApiProperty() name!: string;
  @ApiProperty() quantity!: number;
  @ApiProperty({ description: 'Integer đồng per ticket' }) unitPrice!: number;
}

export const ORDER_STATUSES = ['pending_payment', 'paid', 'failed', 'expired'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export class OrderDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status!: OrderStatus;
  @ApiProperty({ enum: ['wallet', 'gateway'] }) payWith!: 'wallet' | 'gateway';
  @ApiProperty({ example: 37_250, description: 'Integer đồng' }) total!: number;
  @ApiProperty({ example: 'VND' }) currency!: 'VND';
  @ApiProperty({ enum: RIDER_CATEGORIES, description: 'The category the order was priced for' }) riderCategory!: RiderCategory;
  @ApiProperty({ type: [OrderItemSummaryDto] }) items!: OrderItemSummaryDto[];
  @ApiProperty({ type: [TicketDto], description: 'Empty until the order is paid' }) tickets!: TicketDto[];
  @ApiPropertyOptional({ type: PaymentDto, description: 'Orders paid through the gateway: the payment to complete' }) payment?: PaymentDto;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) paidAt?: string;
}

export class ListTicketsQuery {
  @ApiPropertyOptional({ enum: TICKET_STATUSES })
  @IsOptional()
  @IsIn(TICKET_STATUSES)
  status?: TicketStatus;

  @PageLimit()
  limit?: number;
}

export const QR_FORMATS = ['png', 'svg', 'text'] as const;
export type QrFormat = (typeof QR_FORMATS)[number];

export class QrQuery {
  @ApiPropertyOptional({ enum: QR_FORMATS, default: 'png' })
  @IsOptional()
  @IsIn(QR_FORMATS)
  format?: QrFormat;
}

export class RevokeTicketDto {
  @ApiProperty({ example: 'Reported stolen', description: 'Why, for the audit trail' })
  @FreeText(500)
  reason!: string;
}

export class JsonWebKeyDto {
  @ApiProperty({ example: 'EC' }) kty!: string;
  @ApiProperty({ example: 'P-256' }) crv!: string;
  @ApiProperty() x!: string;
  @ApiProperty() y!: string;
  @ApiProperty() kid!: string;
  @ApiProperty({ example: 'ES256' }) alg!: string;
  @ApiProperty({ example: 'sig' }) use!: string;
}

export class JsonWebKeySetDto {
  @ApiProperty({ type: [JsonWebKeyDto], description: 'The first key signs new QR codes; the others verify older ones' }) keys!: JsonWebKeyDto[];
}
