import { Body, Controller, Get, Headers, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { Public, Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { ApiIdempotencyKey, IdempotencyKey, type IdempotentRequest } from './idempotency';
import { WalletBalanceDto } from './wallet.dto';
import { PaymentDto, SandboxCompleteDto, SandboxCompletedDto, TopUpDto, WebhookResultDto } from './payments.dto';
import { PaymentsService } from './payments.service';
import type { RawBodyRequest } from './raw-body';

@ApiTags('payments')
@Controller('v1')
export class PaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  @Get('wallet')
  @Roles('passenger')
  @ApiBearerAuth()
  @ApiOkResponse({ type: WalletBalanceDto })
  wallet(@CurrentUser() user: AuthUser): Promise<WalletBalanceDto> {
    return this.payments.walletBalance(user.id);
  }

  @Post('wallet/top-ups')
  @Roles('passenger')
  @ApiBearerAuth()
  @ApiIdempotencyKey()
  @ApiCreatedResponse({ type: PaymentDto, description: 'The pending payment; the wallet is credited when the gateway confirms it' })
  topUp(@CurrentUser() user: AuthUser, @Body() body: TopUpDto, @IdempotencyKey() idempotency: IdempotentRequest): Promise<PaymentDto> {
    return this.payments.topUp(user.id, body.amount, idempotency);
  }

  @Post('payments/webhook')
  @Public()
  @HttpCode(200)
  @ApiHeader({ name: 'X-Signature', required: true, description: 'Hex HMAC-SHA256 of the raw body with the shared webhook secret' })
  @ApiOkResponse({ type: WebhookResultDto, description: 'Applied, or a repeat of a callback already applied' })
  @ApiUnauthorizedResponse({ description: 'INVALID_SIGNATURE' })
  @ApiConflictResponse({ description: 'PAYMENT_NOT_PENDING: the payment was settled otherwise or expired; nothing changed' })
  @ApiUnprocessableEntityResponse({ description: 'AMOUNT_MISMATCH: nothing changed' })
  webhook(@Req() request: RawBodyRequest, @Headers('x-signature') signature: string | undefined): Promise<WebhookResultDto> {
    return this.payments.handleWebhook(request.rawBody, signature);
  }

  @Post('payments/sandbox/:paymentId/complete')
  @Public()
  @HttpCode(200)
  @ApiOkResponse({ type: SandboxCompletedDto, description: 'Development gateway only (404 in production): the gateway calls our webhook' })
  @ApiNotFoundResponse({ description: 'No such sandbox payment, or running in production' })
  completeInSandbox(@Param('paymentId') paymentId: string, @Body() body: SandboxCompleteDto): Promise<SandboxCompletedDto> {
    return this.payments.completeInSandbox(paymentId, body.outcome ?? 'succeeded');
  }
}
