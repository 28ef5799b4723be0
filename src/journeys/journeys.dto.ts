import { TAP_MEDIUM_KINDS, type TapMediumKind } from '../media/medium-kinds';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { ID_PATTERN, PageLimit } from '../common/dto-decorators';

export class ListJourneysQuery {
  @PageLimit(100, 50)
  limit?: number;
}

export class JourneyCorrectionDto {
  @ApiProperty({ enum: ['auto_completion', 'claim'], description: 'Completed automatically by the published rule, or claimed by the rider' })
  kind!: 'auto_completion' | 'claim';
  @ApiPropertyOptional({ example: 'usual-exit-3-of-5', description: 'auto_completion: the rule that completed it' }) ruleId?: string;
  @ApiProperty({ example: '2a-ha-dong', description: 'The exit the journey was completed at' }) exitStationId!: string;
  @ApiProperty({ description: 'What the journey charged (the maximum fare, after caps)' }) originalCharge!: number;
  @ApiProperty({ description: 'What it costs now' }) charge!: number;
  @ApiProperty({ description: 'Back to the wallet, as a ledger entry' }) refunded!: number;
  @ApiProperty() createdAt!: string;
}

export class JourneyDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['open', 'closed', 'timed_out'], description: 'timed_out: no exit within the journey limit, closed at the maximum fare' })
  status!: 'open' | 'closed' | 'timed_out';
  @ApiProperty({ enum: ['pay_as_you_go', 'single', 'pass'], description: 'The medium: the account QR (pay-as-you-go) or a ticket QR' })
  mediumKind!: 'pay_as_you_go' | 'single' | 'pass';
  @ApiProperty({ enum: TAP_MEDIUM_KINDS, description: 'What the journey began with: a static QR, the app (dynamic QR), a transit card or a chip ID card (never its number)' })
  medium!: TapMediumKind;
  @ApiPropertyOptional({ format: 'uuid' }) ticketId?: string;
  @ApiProperty({ example: 'metro-2a' }) lineId!: string;
  @ApiProperty({ example: 'hmc' }) operatorId!: string;
  @ApiProperty() enteredAt!: string;
  @ApiProperty({ example: '2a-cat-linh' }) entryStationId!: string;
  @ApiPropertyOptional() exitedAt?: string;
  @ApiPropertyOptional({ example: '2a-ha-dong' }) exitStationId?: string;
  @ApiProperty({ example: 'adult' }) riderCategory!: string;
  @ApiPropertyOptional({ description: "The fare for the rider's category (after any waiver); absent while open" }) fare?: number;
  @ApiPropertyOptional({ description: 'The full adult fare, recorded for subsidies' }) fullFare?: number;
  @ApiProperty({ description: 'What the wallet was charged after caps (pay-as-you-go; 0 for tickets)' }) charge!: number;
  @ApiProperty({ description: 'The part of the charge the wallet could not cover (owed, taken from the next top-up)' }) unpaid!: number;
  @ApiProperty({ description: 'A day or week cap lowered the charge below the fare' }) capApplied!: boolean;
  @ApiProperty({ enum: ['none', 'concession', 'free_category', 'waiver'], description: 'Why the fare is below the full fare' })
  reduction!: 'none' | 'concession' | 'free_category' | 'waiver';
  @ApiPropertyOptional({ description: 'The wallet balance right after this journey was charged (pay-as-you-go)' }) balanceAfter?: number;
  @ApiPropertyOptional({ type: JourneyCorrectionDto, description: 'The correction of a maximum fare, if any' }) correction?: JourneyCorrectionDto;
  @ApiProperty({ enum: ['not_applicable', 'claimable', 'claimed', 'auto_completed', 'window_passed'], description: 'Whether the rider may claim the maximum fare back' })
  claim!: 'not_applicable' | 'claimable' | 'claimed' | 'auto_completed' | 'window_passed';
}

export class ClaimJourneyDto {
  @ApiProperty({ example: '2a-ha-dong', description: 'Where the rider actually left' })
  @IsString()
  @Matches(ID_PATTERN, { message: '$property must be a station id' })
  exitStationId!: string;
}
