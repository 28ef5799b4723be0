import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { GateAccountsService } from './gate-accounts.service';
import { GateService, type GateDevice, type TapVerdict } from './gate.service';
import { parseBatch, parseTap } from './tap-input';
import { DenylistPageDto, DenylistQuery, GateBlockDto, TapBatchDto, TapBatchResultDto, TapDto, TapVerdictDto } from './validation.dto';

@ApiTags('validation')
@Controller('v1')
export class ValidationController {
  constructor(
    private readonly gate: GateService,
    private readonly accounts: GateAccountsService,
  ) {}

  /** The gate path: the body is checked by hand (tap-input.ts), not by the global pipe, to keep it light. */
  @Post('validations')
  @HttpCode(200)
  @Roles('validator')
  @ApiBearerAuth()
  @ApiBody({ type: TapDto })
  @ApiOkResponse({ type: TapVerdictDto, description: 'Every well-formed tap gets a verdict; the same tapId from the same device gets the same one again' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: malformed tap' })
  validate(@CurrentUser() device: AuthUser, @Body() body: unknown): Promise<TapVerdict> {
    return this.gate.validate(gateDevice(device), parseTap(body, Date.now()), false);
  }

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
  @Roles('validator', 'admin')
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
  async block(@Param('id') id: string, @Body() body: GateBlockDto): Promise<void> {
    await this.accounts.setBlocked(id, body.blocked, body.reason);
  }
}

function gateDevice(user: AuthUser): GateDevice {
  return { id: user.id, lineId: user.lineId!, ...(user.stationId !== undefined && { stationId: user.stationId }) };
}
