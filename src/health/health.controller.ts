import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/access.decorator';
import { HealthService, HealthStatusDto } from './health.service';

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @ApiOkResponse({ type: HealthStatusDto, description: 'The process is up' })
  live(): HealthStatusDto {
    return { status: 'ok', checks: {} };
  }

  @Get('ready')
  @ApiOkResponse({ type: HealthStatusDto, description: 'Postgres and Redis answer' })
  @ApiServiceUnavailableResponse({ description: 'A dependency does not answer; details name it' })
  ready(): Promise<HealthStatusDto> {
    return this.health.checkReady();
  }
}
