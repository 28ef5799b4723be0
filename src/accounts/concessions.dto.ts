import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';
import { CONCESSION_CATEGORIES, type RiderCategory } from '../fares/rider-category';
import { DATE_ONLY } from './accounts.dto';
import { FreeText, MayBeOmitted, PageLimit } from '../common/dto-decorators';

export const CLAIM_STATUSES = ['pending', 'approved', 'rejected'] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

export class ClaimConcessionDto {
  @ApiProperty({ enum: CONCESSION_CATEGORIES, example: 'elderly' })
  @IsIn(CONCESSION_CATEGORIES)
  category!: RiderCategory;

  @ApiProperty({ example: 'CCCD 001050012345, issued 2021-06-01', description: 'What the reviewer checks: a document reference or description' })
  @FreeText(2000)
  evidence!: string;

  @ApiPropertyOptional({
    example: '1960-03-01',
    description: 'The date of birth the evidence shows. Required for elderly and child; once approved it is the verified date of birth',
  })
  @MayBeOmitted()
  @Matches(DATE_ONLY, { message: 'must be a date, YYYY-MM-DD' })
  @IsISO8601({ strict: true }, { message: 'must be a real calendar date' })
  dateOfBirth?: string;
}

export class ConcessionClaimDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) accountId!: string;
  @ApiProperty({ enum: CONCESSION_CATEGORIES }) category!: RiderCategory;
  @ApiProperty() evidence!: string;
  @ApiPropertyOptional({ example: '1960-03-01' }) dateOfBirth?: string;
  @ApiProperty({ enum: CLAIM_STATUSES }) status!: ClaimStatus;
  @ApiPropertyOptional({ description: 'Approved claims: when the concession ends (none: it does not expire)' }) validUntil?: string;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional() decidedAt?: string;
  @ApiPropertyOptional() decisionReason?: string;
}

export class ListClaimsQuery {
  @ApiPropertyOptional({ enum: CLAIM_STATUSES, default: 'pending' })
  @IsOptional()
  @IsIn(CLAIM_STATUSES)
  status?: ClaimStatus;

  @PageLimit()
  limit?: number;
}

export class ConcessionDecisionDto {
  @ApiProperty({ description: 'true approves, false rejects' })
  @IsBoolean()
  approve!: boolean;

  @ApiPropertyOptional({ example: '2027-06-30T23:59:59+07:00', description: 'Approvals only: when the concession ends' })
  @MayBeOmitted()
  @IsISO8601({ strict: true })
  @Matches(/(Z|[+-]\d{2}:\d{2})$/, { message: 'must carry a time-zone offset' })
  validUntil?: string;

  @ApiPropertyOptional({ example: 'Student card expired', description: 'Shown to the passenger' })
  @MayBeOmitted()
  @FreeText(500)
  reason?: string;
}
