import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { MayBeOmitted, PageLimit } from '../common/dto-decorators';

export class ListAuditQuery {
  @ApiPropertyOptional({ description: 'Only entries about this subject (an account, penalty, device, ticket, product, fare table or waiver id, or a settlement day)' })
  @MayBeOmitted()
  @IsString()
  @Matches(/^[A-Za-z0-9@:._-]{1,64}$/, { message: '$property must be an id' })
  subjectId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only entries by this staff member' })
  @MayBeOmitted()
  @IsString()
  @Matches(/^[0-9a-f-]{36}$/, { message: '$property must be an account id' })
  actorId?: string;

  @PageLimit(200, 50)
  limit?: number;
}

class AuditActorDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'support' }) role!: string;
  @ApiPropertyOptional({ example: 'hmc' }) operatorId?: string;
}

class AuditSubjectDto {
  @ApiProperty({ example: 'account' }) kind!: string;
  @ApiProperty() id!: string;
}

export class AuditEntryDto {
  @ApiProperty() id!: number;
  @ApiProperty() at!: string;
  @ApiProperty({ type: AuditActorDto }) actor!: AuditActorDto;
  @ApiProperty({ example: 'wallet.adjustment' }) action!: string;
  @ApiProperty({ type: AuditSubjectDto }) subject!: AuditSubjectDto;
  @ApiProperty({ example: 'fare_dispute', description: 'Why: the reason code' }) reason!: string;
  @ApiPropertyOptional() note?: string;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'The state before the action' }) before!: object | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'The state after it' }) after!: object | null;
}
