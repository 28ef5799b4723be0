import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { MayBeOmitted } from '../common/dto-decorators';

export class DebtDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'The card: an HMAC of its token, never the token' }) cardId!: string;
  @ApiProperty({ example: 'Bank card 3F2A' }) label!: string;
  @ApiProperty({ example: '2026-12-07', description: 'The local day of the journeys charged' }) day!: string;
  @ApiProperty({ example: 24_000 }) amount!: number;
  @ApiProperty({ example: 'VND' }) currency!: 'VND';
  @ApiProperty({ enum: ['unpaid', 'paid'] }) status!: 'unpaid' | 'paid';
  @ApiProperty({ example: 'insufficient_funds' }) declineCode!: string;
  @ApiProperty({ format: 'date-time', description: 'When the charge was first declined' }) declinedAt!: string;
  @ApiProperty({ description: 'Authorisations asked so far' }) attempts!: number;
  @ApiProperty({ description: 'Scheduled retries made so far' }) retries!: number;
  @ApiPropertyOptional({ format: 'date-time', description: 'The next scheduled retry; absent once the schedule is spent' }) nextRetryAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) paidAt?: string;
}

export class BankCardDto {
  @ApiProperty({ description: 'The card id: an HMAC of its token' }) id!: string;
  @ApiProperty({ enum: ['bank_card'] }) kind!: 'bank_card';
  @ApiProperty({ enum: ['active', 'blocked'], description: 'blocked: on the deny list for an unpaid charge' }) status!: 'active' | 'blocked';
  @ApiProperty({ example: 'Bank card 3F2A' }) label!: string;
  @ApiProperty({ format: 'date-time', description: 'When it was linked to the account' }) createdAt!: string;
}

export class ChargeRunDto {
  @ApiProperty({ description: 'Charges gathered from journeys by this run' }) created!: number;
  @ApiProperty({ description: 'Charges captured by this run' }) captured!: number;
  @ApiProperty({ description: 'Charges declined by this run' }) declined!: number;
}

export class AcquirerWebhookResultDto {
  @ApiProperty({ description: 'False when the event repeated an answer already applied: nothing changed' }) applied!: boolean;
}

export class ChargeRunRequestDto {
  @ApiPropertyOptional({ description: "Only this card's charges (its id, an HMAC of its token); absent: every card", example: '3f2a9c0e5b7d41e6a8c2f0d9b1e4a7c3' })
  @MayBeOmitted()
  @Matches(/^[0-9a-f]{32}$/, { message: 'must be a card id (32 hex digits)' })
  cardId?: string;
}
