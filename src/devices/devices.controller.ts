import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Public, Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { operatorScope } from '../common/operator-scope';
import { DeviceDto, DeviceTokenDto, DeviceTokenRequestDto, ListDevicesQuery, RegisterDeviceDto, RegisteredDeviceDto } from './devices.dto';
import { DevicesService } from './devices.service';

@ApiTags('devices')
@Controller('v1')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Post('admin/devices')
  @Roles('admin')
  @ApiBearerAuth()
  @ApiCreatedResponse({ type: RegisteredDeviceDto, description: 'The secret is shown this once' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: unknown operator, line or station, or one that does not fit' })
  register(@CurrentUser() admin: AuthUser, @Body() body: RegisterDeviceDto): Promise<RegisteredDeviceDto> {
    return this.devices.register(admin, body);
  }

  @Post('admin/devices/:deviceId/disable')
  @Roles('admin')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOkResponse({ type: DeviceDto, description: 'Disabled for good; its tokens stop working at once' })
  @ApiNotFoundResponse({ description: 'No such device' })
  disable(@CurrentUser() admin: AuthUser, @Param('deviceId') deviceId: string): Promise<DeviceDto> {
    return this.devices.disable(admin, deviceId);
  }

  @Get('devices')
  @Roles('admin', 'operator')
  @ApiBearerAuth()
  @ApiOkResponse({ type: [DeviceDto] })
  @ApiForbiddenResponse({ description: "OPERATOR_SCOPE: operator staff asked for another operator's devices" })
  list(@CurrentUser() user: AuthUser, @Query() query: ListDevicesQuery): Promise<DeviceDto[]> {
    return this.devices.list(operatorScope(user, query.operatorId));
  }

  @Get('devices/me')
  @Roles('validator')
  @ApiBearerAuth()
  @ApiOkResponse({ type: DeviceDto, description: 'The calling validator: where it is registered' })
  self(@CurrentUser() device: AuthUser): Promise<DeviceDto> {
    return this.devices.get(device.id);
  }

  @Post('devices/token')
  @Public()
  @HttpCode(200)
  @ApiOkResponse({ type: DeviceTokenDto })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS, or DEVICE_DISABLED' })
  token(@Body() body: DeviceTokenRequestDto): Promise<DeviceTokenDto> {
    return this.devices.issueToken(body.deviceId, body.secret);
  }
}
