import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { GateAccountsService } from './gate-accounts.service';
import { gateDevice } from './gate.route';
import { GateService } from './gate.service';
import { parseBatch } from './tap-input';
import { DenylistPageDto, DenylistQuery, GateBlockDto, TapBatchDto, TapBatchResultDto } from './validation.dto';

/** The gate path's other routes; `POST /v1/validations` itself is served by GateRoute, outside Nest's pipeline. */
@ApiTags('validation')
@Controller('v1')
export class ValidationController {
  constructor(
    private readonly gate: GateService,
    private readonly accounts: GateAccountsService,
  ) {}

  @Post('validations/batch')
  @HttpCode(200)
  @Roles('validator')
  @ApiBearerAuth()
  @ApiBody({ type: TapBatchDto })
  @ApiOkResponse({ type: TapBatchResultDto, description: 'A result per tap, in order; taps refused online are recorded as accepted offline but invalid' })
  async batch(@CurrentUser() device: AuthUser, @Body() body: unknown): Promise<TapBatchResultDto> {
    return { results: await this.gate.validateOffline(gateDevice(device), parseBatch(body, Date.now())) };
  }

  @Get('denylist')
  @Roles('validator', 'admin', 'inspector')
  @ApiBearerAuth()
  @ApiOkResponse({ type: DenylistPageDto, description: 'Revoked tickets and blocked accounts since the cursor, oldest first' })
  denylist(@Query() query: DenylistQuery): Promise<DenylistPageDto> {
    return this.accounts.denylist(query.since);
  }

  @Put('admin/accounts/:id/gate-block')
  @HttpCode(204)
  @Roles('admin')
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: "Gates refuse (or accept again) the account's pay-as-you-go QR" })
  async block(@CurrentUser() admin: AuthUser, @Param('id') id: string, @Body() body: GateBlockDto): Promise<void> {
    // An admin's reason is free text: the audit entry's code says who blocked, the text is its note.
    await this.accounts.setBlocked(admin, id, body.blocked, { reason: 'admin_decision', note: body.reason });
  }
}

