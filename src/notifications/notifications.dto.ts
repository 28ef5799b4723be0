import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { MayBeOmitted } from '../common/dto-decorators';

export class NotificationsQuery {
  @ApiPropertyOptional({ description: 'The cursor of the last event seen (an event id, or the page cursor); none: the last 24 hours' })
  @MayBeOmitted()
  @IsString()
  @MaxLength(100)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: '$property must be a cursor this feed returned' })
  after?: string;
}

export class StreamQuery extends NotificationsQuery {
  @ApiPropertyOptional({ default: 300, minimum: 1, maximum: 3600, description: 'The stream ends after this many seconds; EventSource reconnects with Last-Event-ID' })
  @MayBeOmitted()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3600)
  maxSeconds?: number;
}

export class NotificationDto {
  @ApiProperty({ description: 'The event id: the cursor to resume after it' }) id!: string;
  @ApiProperty({ enum: ['tap', 'wallet', 'concession_expiring', 'concession_expired'] }) type!: 'tap' | 'wallet' | 'concession_expiring' | 'concession_expired';
  @ApiProperty() at!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'tap: {direction, stationId, lineId, verdict, reason, fare?, charge}; wallet: {kind, amount, balanceAfter, reference} (fares, refunds, corrections, adjustments, penalties, top-ups); concession: {category, validUntil}',
  })
  data!: object;
}

export class NotificationPageDto {
  @ApiProperty({ type: [NotificationDto], description: 'Oldest first; concession notices first' }) events!: NotificationDto[];
  @ApiProperty({ description: 'Send as `after` for the next page' }) cursor!: string;
}
