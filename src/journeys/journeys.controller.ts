import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { ApiIdempotencyKey, IdempotencyKey, type IdempotentRequest } from '../payments/idempotency';
import { ClaimJourneyDto, JourneyDto, ListJourneysQuery } from './journeys.dto';
import { JourneysService } from './journeys.service';

@ApiTags('journeys')
@Controller('v1')
export class JourneysController {
  constructor(private readonly journeys: JourneysService) {}

  @Get('me/journeys')
  @Roles('passenger')
  @ApiBearerAuth()
  @ApiOkResponse({ type: [JourneyDto], description: 'Your journeys, newest first: entry, exit, medium, fare, cap or waiver, balance after, claim' })
  list(@CurrentUser() user: AuthUser, @Query() query: ListJourneysQuery): Promise<JourneyDto[]> {
    return this.journeys.history(user.id, query);
  }

  @Post('me/journeys/:id/claims')
  @Roles('passenger')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: JourneyDto, description: 'Corrected: charged the fare to the exit given, the difference back in the wallet' })
  @ApiNotFoundResponse({ description: 'No such journey of yours' })
  @ApiConflictResponse({ description: 'JOURNEY_NOT_CLAIMABLE, JOURNEY_ALREADY_CORRECTED, CLAIM_WINDOW_PASSED, CLAIM_LIMIT_REACHED, NOTHING_TO_REFUND: nothing was refunded' })
  claim(@CurrentUser() user: AuthUser, @Param('id') id: string, @Body() body: ClaimJourneyDto, @IdempotencyKey() idempotency: IdempotentRequest): Promise<JourneyDto> {
    return this.journeys.claim(user.id, id, body, idempotency);
  }
}
