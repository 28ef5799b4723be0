import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsId, MayBeOmitted } from '../common/dto-decorators';

/** Validators (`gate`, `bus`) tap riders in and out; an `inspector` device is an inspector's handset. */
export const DEVICE_KINDS = ['gate', 'bus', 'inspector'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export class RegisterDeviceDto {
  @ApiProperty({ example: 'hmc' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  operatorId!: string;

  @ApiPropertyOptional({ example: 'metro-2a', description: "Validators: the operator's line they serve (required); inspectors' handsets: none (they check any line of the operator)" })
  @MayBeOmitted()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  lineId?: string;

  @ApiPropertyOptional({ example: '2a-cat-linh', description: 'Gates: the station they stand in (required); bus validators and handsets: none' })
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
  @ApiPropertyOptional({ example: 'metro-2a', description: 'Validators only' }) lineId?: string;
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
  @ApiProperty({ description: "JWT for Authorization: Bearer, with role validator (gates, bus validators) or inspector (an inspector's handset)" }) accessToken!: string;
  @ApiProperty({ example: 3600, description: 'Seconds until it expires' }) expiresIn!: number;
  @ApiProperty({ example: 'Bearer' }) tokenType!: 'Bearer';
}

export class ListDevicesQuery {
  @ApiPropertyOptional({ example: 'hmc', description: "Admins: any operator (default all). Operator staff: their own only (the default)" })
  @IsOptional()
  @IsId()
  operatorId?: string;
}
