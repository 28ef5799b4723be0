import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { IsId } from '../common/dto-decorators';
import { TRANSPORT_MODES, type TransportMode } from './hanoi-network';

export class OperatorDto {
  @ApiProperty({ example: 'hmc' }) id!: string;
  @ApiProperty({ example: 'Công ty TNHH MTV Đường sắt Hà Nội (Hanoi Metro)' }) name!: string;
  @ApiProperty({ example: 'Hanoi Metro' }) shortName!: string;
}

export class LineDto {
  @ApiProperty({ example: 'metro-2a' }) id!: string;
  @ApiProperty({ example: '2A' }) code!: string;
  @ApiProperty({ example: 'Metro 2A Cát Linh – Hà Đông' }) name!: string;
  @ApiProperty({ enum: TRANSPORT_MODES, example: 'metro' }) mode!: TransportMode;
  @ApiProperty({ example: 'hmc' }) operatorId!: string;
  @ApiProperty({ example: 12.5, description: 'Distance from the first to the last station' }) lengthKm!: number;
}

export class StationDto {
  @ApiProperty({ example: '2a-cat-linh' }) id!: string;
  @ApiProperty({ example: 'Cát Linh' }) name!: string;
  @ApiProperty({ example: 0, description: 'Kilometres from the first station of the line' }) km!: number;
  @ApiProperty({ description: 'True when the position is an estimate rather than implied by a published fare' })
  positionEstimated!: boolean;
}

export class LineDetailDto extends LineDto {
  @ApiProperty({ type: [StationDto], description: 'In travel order as built' }) stations!: StationDto[];
}

export class ListLinesQuery {
  @ApiPropertyOptional({ enum: TRANSPORT_MODES })
  @IsOptional()
  @IsIn(TRANSPORT_MODES)
  mode?: TransportMode;

  @ApiPropertyOptional({ example: 'hmc' })
  @IsOptional()
  @IsId()
  operatorId?: string;
}
