import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { JourneyDto, ListJourneysQuery } from '../journeys/journeys.dto';
import { ApiIdempotencyKey, IdempotencyKey, type IdempotentRequest } from '../payments/idempotency';
import { MediumDto } from '../media/media.dto';
import { AdjustmentDto, AdjustWalletDto, FindAccountQuery, MediumReplacementDto, SupportAccountDto, SupportGateBlockDto, SupportMediumBlockDto, SupportMediumReplacementDto } from './support.dto';
import { SupportService } from './support.service';

@ApiTags('support')
@Controller('v1/support')
export class SupportController {
  constructor(private readonly support: SupportService) {}

  @Get('accounts')
  @Roles('support')
  @ApiBearerAuth()
  @ApiOkResponse({ type: SupportAccountDto, description: 'The rider found by email or by the medium they hold' })
  @ApiNotFoundResponse({ description: 'No rider with that email or medium' })
  find(@Query() query: FindAccountQuery): Promise<SupportAccountDto> {
    return this.support.find(query);
  }

  @Get('accounts/:id/journeys')
  @Roles('support')
  @ApiBearerAuth()
  @ApiOkResponse({ type: [JourneyDto], description: "The rider's journeys, newest first (an agent bound to an operator: that operator's only)" })
  journeys(@CurrentUser() agent: AuthUser, @Param('id') id: string, @Query() query: ListJourneysQuery): Promise<JourneyDto[]> {
    return this.support.history(agent, id, query);
  }

  @Post('accounts/:id/adjustments')
  @Roles('support')
  @ApiBearerAuth()
  @ApiIdempotencyKey()
  @ApiCreatedResponse({ type: AdjustmentDto, description: 'Money into (or out of) the wallet as balanced ledger entries, audited' })
  @ApiConflictResponse({ description: 'INSUFFICIENT_BALANCE: the wallet cannot cover a negative adjustment' })
  adjust(@CurrentUser() agent: AuthUser, @Param('id') id: string, @Body() body: AdjustWalletDto, @IdempotencyKey() idempotency: IdempotentRequest): Promise<AdjustmentDto> {
    return this.support.adjust(agent, id, body, idempotency);
  }

  @Put('accounts/:id/gate-block')
  @Roles('support')
  @ApiBearerAuth()
  @ApiOkResponse({ type: SupportAccountDto, description: "Blocked (or unblocked) at every gate: the rider's pay-as-you-go QR, audited" })
  @ApiNotFoundResponse({ description: 'No such rider' })
  gateBlock(@CurrentUser() agent: AuthUser, @Param('id') id: string, @Body() body: SupportGateBlockDto): Promise<SupportAccountDto> {
    return this.support.setGateBlock(agent, id, body);
  }

  @Get('accounts/:id/media')
  @Roles('support')
  @ApiBearerAuth()
  @ApiOkResponse({ type: [MediumDto], description: "The rider's media, oldest first: kind, status and label (never a number)" })
  @ApiNotFoundResponse({ description: 'No such rider' })
  media(@Param('id') id: string): Promise<MediumDto[]> {
    return this.support.mediaOf(id);
  }

  @Post('accounts/:id/media/:mediumId/block')
  @Roles('support')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOkResponse({ type: MediumDto, description: 'Blocked at once at every gate and in the deny list; audited with the reason' })
  @ApiNotFoundResponse({ description: "No such rider, or no such medium of the rider's" })
  blockMedium(@CurrentUser() agent: AuthUser, @Param('id') id: string, @Param('mediumId') mediumId: string, @Body() body: SupportMediumBlockDto): Promise<MediumDto> {
    return this.support.blockMedium(agent, id, mediumId, body);
  }

  @Post('accounts/:id/media/:mediumId/replacement')
  @Roles('support')
  @ApiBearerAuth()
  @ApiCreatedResponse({ type: MediumReplacementDto, description: 'The medium blocked and the transit card linked in its place; balance and passes stay with the account; audited' })
  @ApiNotFoundResponse({ description: "No such rider, or no such medium of the rider's" })
  @ApiConflictResponse({ description: 'MEDIUM_LINKED_ELSEWHERE, MEDIUM_BLOCKED (the new card), MEDIUM_SAME' })
  @ApiUnprocessableEntityResponse({ description: 'CARD_NOT_ISSUED' })
  replaceMedium(@CurrentUser() agent: AuthUser, @Param('id') id: string, @Param('mediumId') mediumId: string, @Body() body: SupportMediumReplacementDto): Promise<MediumReplacementDto> {
    return this.support.replaceMedium(agent, id, mediumId, body);
  }
}
