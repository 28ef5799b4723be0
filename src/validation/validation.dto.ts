import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { FreeText } from '../common/dto-decorators';
import { REASON_CODES } from './reason-codes';

/** For the OpenAPI document only: the gate routes check their bodies by hand (see tap-input.ts). */
export class TapDto {
  @ApiProperty({ description: "The device's own id for this tap; a repeat returns the first verdict", example: 'g12-000187', maxLength: 64 })
  tapId!: string;

  @ApiPropertyOptional({ description: 'The token the QR code decodes to (either qr or medium)' })
  qr?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'A card read by the validator (either qr or medium): {kind: "transit_card", uid, counter, cryptogram} or {kind: "id_card", number, birthDate} (README "Media")',
    example: { kind: 'transit_card', uid: '04A2B3C4D5E680', counter: 17, cryptogram: '9f…' },
  })
  medium?: object;

  @ApiProperty({ enum: ['entry', 'exit'] })
  direction!: 'entry' | 'exit';

  @ApiPropertyOptional({ description: "Bus validators: the stop (gates: taken from the device's registration)" })
  stationId?: string;

  @ApiPropertyOptional({ description: 'When the tap happened (ISO 8601 with offset); required in batches', example: '2026-11-22T07:45:12+07:00' })
  occurredAt?: string;
}

export class TapBatchDto {
  @ApiProperty({ type: [TapDto], description: 'Taps accepted offline, in the order the device made them (at most 500)' })
  taps!: TapDto[];
}

export class TapVerdictDto {
  @ApiProperty({ enum: ['accept', 'reject'] })
  verdict!: 'accept' | 'reject';

  @ApiProperty({ enum: REASON_CODES, description: 'OK when accepted online; offline uploads keep the reason a refusal would have had' })
  reason!: string;

  @ApiPropertyOptional()
  ticketId?: string;

  @ApiPropertyOptional({ description: 'Pay-as-you-go: the account charged' })
  accountId?: string;

  @ApiPropertyOptional({ description: 'Pay-as-you-go exits: the fare charged, after caps, in đồng' })
  fare?: number;

  @ApiPropertyOptional({ description: 'Pay-as-you-go: the balance after this tap, in đồng (may be negative after offline trips)' })
  balance?: number;

  @ApiPropertyOptional()
  journeyId?: string;

  @ApiPropertyOptional({ description: 'Offline uploads: false when the tap would have been refused online (recorded for settlement)' })
  valid?: boolean;
}

export class TapResultDto extends TapVerdictDto {
  @ApiProperty()
  tapId!: string;
}

export class TapBatchResultDto {
  @ApiProperty({ type: [TapResultDto] })
  results!: TapResultDto[];
}

export class DenylistQuery {
  @ApiPropertyOptional({ description: 'The cursor a previous page returned; absent: from the beginning' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  since?: string;
}

export class DenylistEntryDto {
  @ApiProperty({ enum: ['ticket', 'account', 'medium', 'bank_card'] })
  kind!: 'ticket' | 'account' | 'medium' | 'bank_card';

  @ApiProperty({ description: "A ticket's or account's id, or a bank card's id (an HMAC of its token)" })
  id!: string;

  @ApiProperty({ enum: ['revoked', 'blocked', 'unblocked'] })
  status!: 'revoked' | 'blocked' | 'unblocked';

  @ApiProperty()
  at!: string;

  @ApiPropertyOptional({ description: 'Media: the kind (transit_card, id_card, …)' })
  mediumKind?: string;

  @ApiPropertyOptional({ description: "Transit cards: the card's UID, which offline validators match the cards they read against" })
  uid?: string;
}

export class DenylistPageDto {
  @ApiProperty({ type: [DenylistEntryDto] })
  entries!: DenylistEntryDto[];

  @ApiProperty({ description: 'Pass as ?since= next time' })
  cursor!: string;
}

export class GateBlockDto {
  @ApiProperty({ description: 'true blocks the account at the gates, false lifts the block' })
  @IsBoolean()
  blocked!: boolean;

  @ApiProperty({ example: 'reported stolen phone' })
  @FreeText(500)
  @MinLength(3)
  reason!: string;
}
