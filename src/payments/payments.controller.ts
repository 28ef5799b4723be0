import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Public, Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { ApiIdempotencyKey, IdempotencyKey, type IdempotentRequest } from './idempotency';
import { WalletBalanceDto } from './wallet.dto';
import { PaymentDto, SandboxCompleteDto, SandboxCompletedDto, TopUpDto } from './payments.dto';
import { PaymentsService } from './payments.service';

/**
 * Wallet, top-ups and the sandbox page. The gateway's webhook is served by tickets'
 * PaymentCallbacksController: settling an order's payment needs the orders side, above this module.
 */
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

  @Post('payments/sandbox/:paymentId/complete')
  @Public()
  @HttpCode(200)
  @ApiOkResponse({ type: SandboxCompletedDto, description: 'Development gateway only (404 in production): the gateway calls our webhook' })
  @ApiNotFoundResponse({ description: 'No such sandbox payment, or running in production' })
  completeInSandbox(@Param('paymentId') paymentId: string, @Body() body: SandboxCompleteDto): Promise<SandboxCompletedDto> {
    return this.payments.completeInSandbox(paymentId, body.outcome ?? 'succeeded');
  }
}
