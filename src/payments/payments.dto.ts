import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, Max, Min } from 'class-validator';
import { MayBeOmitted } from '../common/dto-decorators';

/** The most a single top-up may bring: 10 million đồng. */
export const MAX_TOP_UP = 10_000_000;

export class TopUpDto {
  @ApiProperty({ example: 100_000, description: 'Integer đồng, 10,000 to 10,000,000' })
  @IsInt()
  @Min(10_000)
  @Max(MAX_TOP_UP)
  amount!: number;
}

export const PAYMENT_STATUSES = ['pending', 'succeeded', 'failed', 'expired'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const PAYMENT_PURPOSES = ['top_up', 'order', 'penalty'] as const;
export type PaymentPurpose = (typeof PAYMENT_PURPOSES)[number];

export class PaymentDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: PAYMENT_PURPOSES }) purpose!: PaymentPurpose;
  @ApiProperty({ enum: PAYMENT_STATUSES }) status!: PaymentStatus;
  @ApiProperty({ example: 100_000 }) amount!: number;
  @ApiProperty({ example: 'VND' }) currency!: 'VND';
  @ApiProperty({ example: 'sandbox' }) gateway!: string;
  @ApiProperty({ description: "The gateway's page where the payer pays" }) redirectUrl!: string;
  @ApiPropertyOptional({ format: 'uuid' }) orderId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'The penalty fare it pays' }) penaltyId?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', description: 'A payment not confirmed by then expires' }) expiresAt!: string;
}

export class WebhookResultDto {
  @ApiProperty({ format: 'uuid' }) paymentId!: string;
  @ApiProperty({ enum: PAYMENT_STATUSES }) status!: PaymentStatus;
  @ApiProperty({ description: 'False when the callback repeated one already applied: nothing changed' }) applied!: boolean;
}

export class SandboxCompleteDto {
  @ApiPropertyOptional({ enum: ['succeeded', 'failed'], default: 'succeeded', description: 'How the payer leaves the sandbox page' })
  @MayBeOmitted()
  @IsIn(['succeeded', 'failed'])
  outcome?: 'succeeded' | 'failed';
}

export class SandboxCompletedDto {
  @ApiProperty({ description: 'The HTTP status our webhook answered the gateway with' }) webhookStatus!: number;
  @ApiProperty({ description: "Our webhook's answer" }) webhookResponse!: object;
}
