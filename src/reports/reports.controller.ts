import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { DayReportQuery, DeviceActivityReportDto, TapReportDto, TrendQuery, TrendReportDto } from './reports.dto';
import { ReportsService } from './reports.service';

const SCOPE = { description: "OPERATOR_SCOPE: operator staff asking for another operator's figures" };

@ApiTags('reports')
@ApiBearerAuth()
@Controller('v1/reports')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get('taps')
  @Roles('operator', 'admin')
  @ApiOkResponse({ type: TapReportDto, description: 'The day\'s taps by local hour and by station along each line' })
  @ApiForbiddenResponse(SCOPE)
  taps(@CurrentUser() user: AuthUser, @Query() query: DayReportQuery): Promise<TapReportDto> {
    return this.reports.taps(user, query.date, query.operatorId);
  }

  @Get('devices')
  @Roles('operator', 'admin')
  @ApiOkResponse({ type: DeviceActivityReportDto, description: "Each validator's last tap and its day's share of rejected and offline-uploaded taps" })
  @ApiForbiddenResponse(SCOPE)
  devices(@CurrentUser() user: AuthUser, @Query() query: DayReportQuery): Promise<DeviceActivityReportDto> {
    return this.reports.deviceActivity(user, query.date, query.operatorId);
  }

  @Get('trend')
  @Roles('operator', 'admin')
  @ApiOkResponse({ type: TrendReportDto, description: 'A run of days (30 by default) with the figures of each day\'s statement' })
  @ApiForbiddenResponse(SCOPE)
  trend(@CurrentUser() user: AuthUser, @Query() query: TrendQuery): Promise<TrendReportDto> {
    return this.reports.trend(user, query.to, query.days ?? 30, query.operatorId);
  }
}
