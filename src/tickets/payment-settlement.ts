import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { Leadership, type LeaderJob } from '../database/leadership';
import type { WebhookResultDto } from '../payments/payments.dto';
import { PaymentsService } from '../payments/payments.service';
import { OrdersService } from './orders.service';

/**
 * Where a payment's outcome meets the orders side. Payments sit below tickets and cannot call
 * orders, so the two ways a pending payment finishes, the gateway's webhook and the expiry sweep,
 * are driven from here: each hands PaymentsService the order-settling step (OrdersService.settle)
 * explicitly, and PaymentsService runs it in the transaction that records the payment's outcome.
 */
@Injectable()
export class PaymentSettlement implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PaymentSettlement.name);
  private expiry: LeaderJob | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly payments: PaymentsService,
    private readonly orders: OrdersService,
    private readonly leadership: Leadership,
  ) {}

  /** The expiry sweep runs in the copy leading the singleton jobs. */
  onApplicationBootstrap(): void {
    this.expiry = this.leadership.every(
      this.config.payments.expirySweepSeconds * 1000,
      () => this.expireOverdue(),
      (error) => this.logger.error({ err: error }, 'expiring overdue payments failed'),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.expiry?.stop();
  }

  /** The gateway's callback, for a top-up or an order's payment. */
  handleWebhook(rawBody: string | undefined, signature: string | undefined): Promise<WebhookResultDto> {
    return this.payments.handleWebhook(rawBody, signature, this.orders);
  }

  /** Expires pending payments past their time, and the orders waiting for them. */
  expireOverdue(): Promise<number> {
    return this.payments.expireOverdue(this.orders);
  }
}
