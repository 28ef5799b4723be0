import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiUnauthorizedResponse, ApiHeader, ApiUnprocessableEntityResponse, ApiConflictResponse } from '@nestjs/swagger';
import { Public, Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { ApiIdempotencyKey, IdempotencyKey, type IdempotentRequest } from '../payments/idempotency';
import type { RawBodyRequest } from '../payments/raw-body';
import { AcquirerWebhookResultDto, CardReconciliationDto, CardReconciliationQuery, ChargeRunDto, ChargeRunRequestDto, DebtDto } from './bank-cards.dto';
import { CardReconciliation } from './card-reconciliation';
import { CardChargeJob } from './card-charge-job';
import { CardCharges } from './card-charges';
import { CardDebts } from './card-debts';

@ApiTags('bank-cards')
@Controller('v1')
export class BankCardsController {
  constructor(
    private readonly debts: CardDebts,
    private readonly job: CardChargeJob,
    private readonly charges: CardCharges,
    private readonly reconciliation: CardReconciliation,
  ) {}

  @Get('bank-cards/reconciliation')
  @Roles('operator', 'admin')
  @ApiBearerAuth()
  @ApiOkResponse({
    type: CardReconciliationDto,
    description: "The day's three-way reconciliation: card taps ↔ journeys ↔ charges ↔ the acquirer's settlement file of the day, every mismatch listed",
  })
  @ApiForbiddenResponse({ description: "OPERATOR_SCOPE: operator staff asking for another operator's figures" })
  reconcile(@CurrentUser() user: AuthUser, @Query() query: CardReconciliationQuery): Promise<CardReconciliationDto> {
    return this.reconciliation.day(user, query.date, query.operatorId);
  }

  @Get('me/debts')
  @Roles('passenger')
  @ApiBearerAuth()
  @ApiOkResponse({ type: [DebtDto], description: "Unpaid bank-card fares of your linked cards: charges the card's bank declined" })
  list(@CurrentUser() user: AuthUser): Promise<DebtDto[]> {
    return this.debts.debts(user.id);
  }

  @Post('me/debts/:id/pay')
  @Roles('passenger')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: DebtDto, description: 'Paid: the card leaves the deny list once it owes nothing else' })
  @ApiNotFoundResponse({ description: 'No such debt of a card linked to you' })
  @ApiUnprocessableEntityResponse({ description: 'CARD_DECLINED: the bank declined again, the debt is still owed; IDEMPOTENCY_KEY_REUSED' })
  pay(@CurrentUser() user: AuthUser, @Param('id') id: string, @IdempotencyKey() idempotency: IdempotentRequest): Promise<DebtDto> {
    return this.debts.pay(user.id, id, idempotency);
  }

  @Post('admin/bank-cards/charge-run')
  @Roles('admin')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOkResponse({ type: ChargeRunDto, description: "Runs the daily charge job now: days that ended, cards at their day cap, retries due" })
  @ApiConflictResponse({ description: 'ACQUIRER_OFF: no acquirer is configured' })
  @ApiNotFoundResponse({ description: 'A cardId the service has never seen' })
  chargeRun(@CurrentUser() admin: AuthUser, @Body() body: ChargeRunRequestDto): Promise<ChargeRunDto> {
    return this.job.runNow(admin, body.cardId);
  }

  @Post('bank-cards/acquirer/webhook')
  @Public()
  @HttpCode(200)
  @ApiHeader({ name: 'X-Signature', required: true, description: "Hex HMAC-SHA256 of the raw body with the acquirer's webhook secret" })
  @ApiOkResponse({ type: AcquirerWebhookResultDto, description: 'Applied, or a repeat of an answer already applied' })
  @ApiUnauthorizedResponse({ description: 'INVALID_SIGNATURE' })
  acquirerWebhook(@Req() request: RawBodyRequest, @Headers('x-signature') signature: string | undefined): Promise<AcquirerWebhookResultDto> {
    return this.charges.handleWebhook(request.rawBody, signature);
  }
}
