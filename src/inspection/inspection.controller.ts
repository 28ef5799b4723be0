import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { ApiIdempotencyKey, IdempotencyKey, type IdempotentRequest } from '../payments/idempotency';
import { DisputePenaltyDto, InspectDto, InspectionDto, IssuePenaltyDto, PayPenaltyDto, PenaltyDecisionDto, PenaltyDto } from './inspection.dto';
import { InspectionService } from './inspection.service';
import { PenaltiesService } from './penalties.service';

@ApiTags('inspection')
@Controller('v1')
export class InspectionController {
  constructor(
    private readonly inspection: InspectionService,
    private readonly penalties: PenaltiesService,
  ) {}

  @Post('inspections')
  @Roles('inspector')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOkResponse({ type: InspectionDto, description: 'VALID, NO_TAP or INVALID, recorded' })
  inspect(@CurrentUser() inspector: AuthUser, @Body() body: InspectDto): Promise<InspectionDto> {
    return this.inspection.inspect(inspector, body);
  }

  @Post('penalties')
  @Roles('inspector')
  @ApiBearerAuth()
  @ApiCreatedResponse({ type: PenaltyDto, description: 'A penalty fare for an inspection that found no tap or an invalid medium; the rider pays or disputes it' })
  @ApiNotFoundResponse({ description: "No such inspection of the inspector's operator" })
  @ApiConflictResponse({ description: 'INSPECTION_VALID, RIDER_UNKNOWN, PENALTY_EXISTS' })
  issue(@CurrentUser() inspector: AuthUser, @Body() body: IssuePenaltyDto): Promise<PenaltyDto> {
    return this.penalties.issue(inspector, body.inspectionId);
  }

  @Get('me/penalties')
  @Roles('passenger')
  @ApiBearerAuth()
  @ApiOkResponse({ type: [PenaltyDto], description: 'Your penalty fares, newest first' })
  mine(@CurrentUser() user: AuthUser): Promise<PenaltyDto[]> {
    return this.penalties.mine(user.id);
  }

  @Post('me/penalties/:id/payment')
  @Roles('passenger')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: PenaltyDto, description: 'Paid from the wallet; or, through the gateway, with the pending payment to complete there' })
  @ApiConflictResponse({ description: 'PENALTY_NOT_PAYABLE (paid, disputed or cancelled), INSUFFICIENT_BALANCE' })
  pay(@CurrentUser() user: AuthUser, @Param('id') id: string, @Body() body: PayPenaltyDto, @IdempotencyKey() idempotency: IdempotentRequest): Promise<PenaltyDto> {
    return this.penalties.pay(user.id, id, body, idempotency);
  }

  @Post('me/penalties/:id/dispute')
  @Roles('passenger')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOkResponse({ type: PenaltyDto, description: 'Disputed: customer service decides' })
  @ApiConflictResponse({ description: 'PENALTY_NOT_DISPUTABLE' })
  dispute(@CurrentUser() user: AuthUser, @Param('id') id: string, @Body() body: DisputePenaltyDto): Promise<PenaltyDto> {
    return this.penalties.dispute(user.id, id, body.reason);
  }

  @Post('support/penalties/:id/decision')
  @Roles('support')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOkResponse({ type: PenaltyDto, description: 'Upheld (owed again) or cancelled; audited' })
  @ApiConflictResponse({ description: 'PENALTY_NOT_DISPUTED' })
  decide(@CurrentUser() agent: AuthUser, @Param('id') id: string, @Body() body: PenaltyDecisionDto): Promise<PenaltyDto> {
    return this.penalties.decide(agent, id, body);
  }
}
