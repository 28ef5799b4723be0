import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsObject, IsString, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { FreeText, MayBeOmitted } from '../common/dto-decorators';
import { LINKABLE_KINDS, MEDIUM_STATUSES, type LinkableKind, type MediumStatus } from './medium-kinds';

/** POST /v1/me/media: `kind` and that kind's fields (medium-kinds.ts checks which belong to which). */
export class LinkMediumDto {
  @ApiProperty({ enum: LINKABLE_KINDS, example: 'transit_card' })
  @IsIn(LINKABLE_KINDS)
  kind!: LinkableKind;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: "app: the phone's P-256 public key as a JWK {kty, crv, x, y}" })
  @MayBeOmitted()
  @IsObject()
  publicKey?: object;

  @ApiPropertyOptional({ example: '04A2B3C4D5E680', description: 'transit_card: the card UID printed on it, in hex' })
  @MayBeOmitted()
  @IsString()
  @MaxLength(64)
  uid?: string;

  @ApiPropertyOptional({ example: '001060012345', description: 'id_card: the CCCD number (12 digits); kept only as a keyed hash' })
  @MayBeOmitted()
  @IsString()
  @MaxLength(64)
  number?: string;

  @ApiPropertyOptional({ example: '1960-03-01', description: "id_card: the card holder's date of birth, as on the card" })
  @MayBeOmitted()
  @IsString()
  @MaxLength(64)
  birthDate?: string;

  @ApiPropertyOptional({
    example: 'tok_4f1c9a0e7b2d4c3a9e8f',
    description: "bank_card: the card's payment account reference or the acquirer's token (16 to 128 of A-Z a-z 0-9 _.:-), never its number; kept only sealed and as a keyed hash",
  })
  @MayBeOmitted()
  @IsString()
  @MaxLength(128)
  token?: string;
}

export class MediumEventDto {
  @ApiProperty({ enum: MEDIUM_STATUSES }) status!: MediumStatus;
  @ApiProperty({ example: 'lost' }) reason!: string;
  @ApiProperty() at!: string;
}

export class MediumDto {
  @ApiProperty({ description: 'A uuid; a bank card: its card id (32 hex digits, an HMAC of its token)' }) id!: string;
  @ApiProperty({ enum: LINKABLE_KINDS }) kind!: LinkableKind;
  @ApiProperty({ enum: MEDIUM_STATUSES }) status!: MediumStatus;
  @ApiProperty({ example: 'Thẻ ···E680', description: 'What the rider recognises it by: never the whole number' }) label!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
  @ApiPropertyOptional({ description: 'app (in the answers to linking and to renewal only): the credential every code starts with (README "The dynamic QR")' }) credential?: string;
  @ApiPropertyOptional({ description: 'app: when the credential expires; the app renews it before (POST /v1/me/media/{id}/credential)' }) credentialExpiresAt?: string;
  @ApiPropertyOptional({ description: 'app: the time step of the codes, in seconds' }) stepSeconds?: number;
  @ApiPropertyOptional({ description: 'app: steps either side of the gate clock a code is still accepted' }) windowSteps?: number;
}

export class MediumDetailDto extends MediumDto {
  @ApiProperty({ type: [MediumEventDto], description: 'Every change of status, oldest first' }) history!: MediumEventDto[];
}

export class TransitCardDto {
  @ApiProperty({ example: '04A2B3C4D5E680' })
  @IsString()
  @MaxLength(64)
  uid!: string;
}

export class RegisterTransitCardsDto {
  @ApiProperty({ type: [TransitCardDto], description: 'Cards the scheme issued (at most 1000 a call)' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => TransitCardDto)
  cards!: TransitCardDto[];
}

export class RegisteredCardDto {
  @ApiProperty({ example: '04A2B3C4D5E680' }) uid!: string;
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'false: the card was registered before (this call changed nothing for it)' }) registered!: boolean;
}

export class RegisteredCardsDto {
  @ApiProperty({ type: [RegisteredCardDto] }) cards!: RegisteredCardDto[];
}

export class MediumBlockDto {
  @ApiPropertyOptional({ example: 'reported stolen at the counter' })
  @MayBeOmitted()
  @FreeText(500)
  @MinLength(3)
  reason?: string;
}
