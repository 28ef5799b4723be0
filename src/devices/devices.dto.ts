import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsId, MayBeOmitted } from '../common/dto-decorators';

export const DEVICE_KINDS = ['gate', 'bus'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export class RegisterDeviceDto {
  @ApiProperty({ example: 'hmc' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  operatorId!: string;

  @ApiProperty({ example: 'metro-2a' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  lineId!: string;

  @ApiPropertyOptional({ example: '2a-cat-linh', description: 'Gates: the station they stand in (required); bus validators: none' })
  @MayBeOmitted()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  stationId?: string;

  @ApiProperty({ enum: DEVICE_KINDS })
  @IsIn(DEVICE_KINDS)
  kind!: DeviceKind;
}

export class DeviceDto {
  @ApiProperty() deviceId!: string;
  @ApiProperty({ example: 'hmc' }) operatorId!: string;
  @ApiProperty({ example: 'metro-2a' }) lineId!: string;
  @ApiPropertyOptional({ example: '2a-cat-linh' }) stationId?: string;
  @ApiProperty({ enum: DEVICE_KINDS }) kind!: DeviceKind;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ description: 'Set once an admin disabled the device; its tokens no longer work' }) disabledAt?: string;
}

export class RegisteredDeviceDto extends DeviceDto {
  @ApiProperty({ description: 'Shown this once; only a hash is kept. The device exchanges it at POST /v1/devices/token' })
  secret!: string;
}

export class DeviceTokenRequestDto {
  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  deviceId!: string;

  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  secret!: string;
}

export class DeviceTokenDto {
  @ApiProperty({ description: 'JWT with role validator, for Authorization: Bearer' }) accessToken!: string;
  @ApiProperty({ example: 3600, description: 'Seconds until it expires' }) expiresIn!: number;
  @ApiProperty({ example: 'Bearer' }) tokenType!: 'Bearer';
}

export class ListDevicesQuery {
  @ApiPropertyOptional({ example: 'hmc', description: "Admins: any operator (default all). Operator staff: their own only (the default)" })
  @IsOptional()
  @IsId()
  operatorId?: string;
}
