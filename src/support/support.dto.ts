import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsString, Matches, Max, MaxLength, Min, NotEquals } from 'class-validator';
import { FreeText, MayBeOmitted } from '../common/dto-decorators';
import { MediumDto } from '../media/media.dto';

export const ADJUSTMENT_REASONS = ['fare_dispute', 'duplicate_charge', 'service_disruption', 'goodwill', 'correction'] as const;
export type AdjustmentReason = (typeof ADJUSTMENT_REASONS)[number];

/** The most a support agent may move in one adjustment, either way. */
export const MAX_ADJUSTMENT = 2_000_000;

export class FindAccountQuery {
  @ApiPropertyOptional({ example: 'rider@lienthong.local', description: 'The rider’s email (exact, case-insensitive)' })
  @MayBeOmitted()
  @IsString()
  @MaxLength(254)
  @Matches(/^[^\s@<>;'"]+@[^\s@<>;'"]+$/, { message: '$property must be an email address' })
  email?: string;

  @ApiPropertyOptional({
    description:
      'The rider’s medium: the scanned text of a ticket QR or of the pay-as-you-go QR (verified and resolved on the server), a transit card UID (hex) or a chip ID card (CCCD) number (found by its keyed look-up hash). The answer never repeats it',
  })
  @MayBeOmitted()
  @IsString()
  @MaxLength(2048)
  @Matches(/^(?:[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20}|\d{12})$/, {
    message: '$property must be a scanned QR token, a card UID or a CCCD number',
  })
  medium?: string;
}

export class SupportAccountDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() email!: string;
  @ApiProperty() fullName!: string;
  @ApiProperty({ example: 'adult' }) riderCategory!: string;
  @ApiProperty() balance!: number;
  @ApiProperty({ example: 'VND' }) currency!: string;
  @ApiProperty({ description: 'The pay-as-you-go QR is refused at the gates' }) gateBlocked!: boolean;
  @ApiPropertyOptional({ enum: ['email', 'medium'], description: 'Look-ups: how the rider was found' }) foundBy?: 'email' | 'medium';
  @ApiPropertyOptional({ enum: ['pay_as_you_go', 'ticket', 'transit_card', 'id_card'], description: 'Found by medium: which kind it was' }) mediumKind?:
    | 'pay_as_you_go'
    | 'ticket'
    | 'transit_card'
    | 'id_card';
  @ApiPropertyOptional({ format: 'uuid', description: 'Found by a card: the medium id (block it with the media routes)' }) mediumId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'Found by a ticket QR: the ticket' }) ticketId?: string;
  @ApiProperty() createdAt!: string;
}

export class AdjustWalletDto {
  @ApiProperty({ example: 10_000, description: `Đồng into the wallet (positive) or out of it (negative); at most ${MAX_ADJUSTMENT} either way` })
  @IsInt()
  @NotEquals(0)
  @Min(-MAX_ADJUSTMENT)
  @Max(MAX_ADJUSTMENT)
  amount!: number;

  @ApiProperty({ enum: ADJUSTMENT_REASONS })
  @IsIn(ADJUSTMENT_REASONS)
  reason!: AdjustmentReason;

  @ApiProperty({ example: 'Khách quên chạm thẻ ra, đã xác minh qua camera ga Láng' })
  @FreeText(500)
  note!: string;
}

export class AdjustmentDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty() amount!: number;
  @ApiProperty({ enum: ADJUSTMENT_REASONS }) reason!: AdjustmentReason;
  @ApiProperty() note!: string;
  @ApiProperty() balanceBefore!: number;
  @ApiProperty() balanceAfter!: number;
  @ApiPropertyOptional({ description: 'The agent’s operator, which settlement charges it to; none: the scheme' }) operatorId?: string;
  @ApiProperty() createdAt!: string;
}

export const BLOCK_REASONS = ['lost_medium', 'stolen_medium', 'fraud_suspected', 'rider_request', 'resolved'] as const;

export class SupportGateBlockDto {
  @ApiProperty({ description: "true: the gates refuse the rider's pay-as-you-go QR from now on; false: accept it again" })
  @IsBoolean()
  blocked!: boolean;

  @ApiProperty({ enum: BLOCK_REASONS })
  @IsIn(BLOCK_REASONS)
  reason!: (typeof BLOCK_REASONS)[number];

  @ApiProperty({ example: 'Khách báo mất điện thoại lúc 8 giờ sáng' })
  @FreeText(500)
  note!: string;
}

/** Why customer service blocks or replaces a rider's medium. */
export const MEDIUM_REASONS = ['lost_medium', 'stolen_medium', 'damaged_medium', 'fraud_suspected', 'rider_request'] as const;

export class SupportMediumBlockDto {
  @ApiProperty({ enum: MEDIUM_REASONS })
  @IsIn(MEDIUM_REASONS)
  reason!: (typeof MEDIUM_REASONS)[number];

  @ApiProperty({ example: 'Khách báo mất thẻ tại quầy ga Cát Linh' })
  @FreeText(500)
  note!: string;
}

export class SupportMediumReplacementDto extends SupportMediumBlockDto {
  @ApiProperty({ example: '04A2B3C4D5E680', description: 'The UID of the transit card handed to the rider (one the scheme issued)' })
  @IsString()
  @Matches(/^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}|[0-9A-Fa-f]{20})$/, { message: '$property must be a card UID: 4, 7 or 10 bytes in hex' })
  uid!: string;
}

export class MediumReplacementDto {
  @ApiProperty({ type: MediumDto, description: 'The medium replaced: now blocked' }) replaced!: MediumDto;
  @ApiProperty({ type: MediumDto, description: "The transit card now linked to the rider's account" }) medium!: MediumDto;
}
