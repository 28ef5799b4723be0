import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsString, Matches, MaxLength } from 'class-validator';
import { FreeText, ID_PATTERN, MayBeOmitted } from '../common/dto-decorators';
import { PaymentDto } from '../payments/payments.dto';

export const INSPECTION_RESULTS = ['VALID', 'NO_TAP', 'INVALID'] as const;
export type InspectionResult = (typeof INSPECTION_RESULTS)[number];

export class InspectDto {
  @ApiProperty({ description: "The rider's QR as scanned: a ticket's, the pay-as-you-go one, or the app's dynamic QR (LT1:…)" })
  @IsString()
  @MaxLength(2048)
  // A ticket's or account's token (a JWT), or the app's dynamic QR: LT1: and base45 (src/tickets/dynamic-qr.ts).
  @Matches(/^([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|LT1:[0-9A-Z $%*+\-./:]+)$/, { message: '$property must be a scanned QR token' })
  qr!: string;

  @ApiProperty({ example: 'metro-2a', description: "The line being inspected: one of the inspector's operator" })
  @IsString()
  @Matches(ID_PATTERN, { message: '$property must be a line id' })
  lineId!: string;

  @ApiPropertyOptional({
    description: 'true: judge as the inspector’s device does without a network, from the signature (JWKS) and the deny list only; the open journey is not looked at',
  })
  @MayBeOmitted()
  @IsBoolean()
  offline?: boolean;

  @ApiPropertyOptional({ example: '2026-12-04T08:30:00+07:00', description: 'When the check was made (an upload of offline checks); default now, at most 7 days back' })
  @MayBeOmitted()
  @IsString()
  @Matches(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/, { message: '$property must be an ISO 8601 instant with an offset' })
  occurredAt?: string;
}

export class InspectionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: INSPECTION_RESULTS, description: 'VALID: a valid ticket, or an open journey entered on this line recently; NO_TAP: nothing shows the rider tapped in; INVALID: the medium is not valid here' })
  result!: InspectionResult;
  @ApiProperty({ example: 'OPEN_JOURNEY', description: 'Why: OPEN_JOURNEY, VALID_PASS, VALID_OFFLINE, NO_OPEN_JOURNEY, TICKET_NOT_USED, INVALID_QR, EXPIRED, NOT_YET_VALID, REVOKED, NOT_COVERED, ALREADY_USED' })
  reason!: string;
  @ApiProperty({ enum: ['online', 'offline'] }) basis!: 'online' | 'offline';
  @ApiPropertyOptional({ enum: ['pay_as_you_go', 'app', 'single', 'pass'], description: "app: the app's dynamic QR (pay as you go on its account)" }) mediumKind?: 'pay_as_you_go' | 'app' | 'single' | 'pass';
  @ApiPropertyOptional({ format: 'uuid' }) ticketId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'The open journey that made it VALID' }) journeyId?: string;
  @ApiPropertyOptional({ example: '2a-cat-linh' }) entryStationId?: string;
  @ApiPropertyOptional() enteredAt?: string;
  @ApiPropertyOptional({ description: 'NO_TAP or INVALID with a known rider: a penalty fare can be issued for this inspection' }) penaltyPossible?: boolean;
  @ApiProperty() occurredAt!: string;
}

export class IssuePenaltyDto {
  @ApiProperty({ format: 'uuid', description: 'The inspection (NO_TAP or INVALID) the penalty is for' })
  @IsString()
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, { message: '$property must be an inspection id' })
  inspectionId!: string;
}

export class PenaltyDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) inspectionId!: string;
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty({ example: 'hmc' }) operatorId!: string;
  @ApiProperty({ example: 'no-valid-ticket', description: 'The penalty fare applied (penalty_fares, data)' }) fareId!: string;
  @ApiProperty({ example: 200_000 }) amount!: number;
  @ApiProperty({ enum: ['issued', 'paid', 'disputed', 'cancelled'] }) status!: 'issued' | 'paid' | 'disputed' | 'cancelled';
  @ApiProperty() issuedAt!: string;
  @ApiPropertyOptional() paidAt?: string;
  @ApiPropertyOptional() disputeReason?: string;
  @ApiPropertyOptional({ type: PaymentDto, description: 'Paying through the gateway: the pending payment; the penalty is paid when the gateway confirms it' })
  payment?: PaymentDto;
}

export class PayPenaltyDto {
  @ApiPropertyOptional({ enum: ['wallet', 'gateway'], default: 'wallet', description: 'From the wallet at once, or through the payment gateway' })
  @MayBeOmitted()
  @IsIn(['wallet', 'gateway'])
  payWith?: 'wallet' | 'gateway';
}

export class DisputePenaltyDto {
  @ApiProperty({ example: 'Tôi đã chạm thẻ ở ga Cát Linh nhưng cổng không phản hồi' })
  @FreeText(500)
  reason!: string;
}

export class PenaltyDecisionDto {
  @ApiProperty({ description: 'true: the penalty stands (the rider owes it again); false: it is cancelled' })
  @IsBoolean()
  uphold!: boolean;

  @ApiProperty({ example: 'Camera ga Cát Linh cho thấy khách đã chạm thẻ' })
  @FreeText(500)
  note!: string;
}
