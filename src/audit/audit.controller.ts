import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/access.decorator';
import { ListAuditQuery, AuditEntryDto } from './audit.dto';
import { AuditLog } from './audit-log';

@ApiTags('audit')
@Controller('v1')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @Get('admin/audit')
  @Roles('admin')
  @ApiBearerAuth()
  @ApiOkResponse({ type: [AuditEntryDto], description: 'Every support, inspection and admin action recorded: who, what, why, before and after; newest first' })
  list(@Query() query: ListAuditQuery): Promise<AuditEntryDto[]> {
    return this.audit.list(query);
  }
}
