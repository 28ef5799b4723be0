import { Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { ApiConflictResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { Public } from '../common/access.decorator';
import { WebhookResultDto } from '../payments/payments.dto';
import type { RawBodyRequest } from '../payments/raw-body';
import { PaymentSettlement } from './payment-settlement';

/**
 * The payment gateway's webhook. It lives above tickets and inspection because an order's payment
 * is settled by the orders side, a penalty's by inspection, in the same transaction (see PaymentSettlement). The operation id is the one it had
 * when PaymentsController served it, so clients generated from the document keep their names.
 */
@ApiTags('payments')
@Controller('v1')
export class PaymentCallbacksController {
  constructor(private readonly settlement: PaymentSettlement) {}

  @Post('payments/webhook')
  @Public()
  @HttpCode(200)
  @ApiOperation({ operationId: 'PaymentsController_webhook' })
  @ApiHeader({ name: 'X-Signature', required: true, description: 'Hex HMAC-SHA256 of the raw body with the shared webhook secret' })
  @ApiOkResponse({ type: WebhookResultDto, description: 'Applied, or a repeat of a callback already applied' })
  @ApiUnauthorizedResponse({ description: 'INVALID_SIGNATURE' })
  @ApiConflictResponse({ description: 'PAYMENT_NOT_PENDING: the payment was settled otherwise or expired; nothing changed' })
  @ApiUnprocessableEntityResponse({ description: 'AMOUNT_MISMATCH: nothing changed' })
  webhook(@Req() request: RawBodyRequest, @Headers('x-signature') signature: string | undefined): Promise<WebhookResultDto> {
    return this.settlement.handleWebhook(request.rawBody, signature);
  }
}
