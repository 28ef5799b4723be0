import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { Leadership, type LeaderJob } from '../database/leadership';
import type { WebhookResultDto } from '../payments/payments.dto';
import { PenaltiesService } from '../inspection/penalties.service';
import { PaymentsService, type PaymentSettlers } from '../payments/payments.service';
import { OrdersService } from '../tickets/orders.service';

/**
 * Where a payment's outcome meets what it pays for: an order (tickets) or a penalty fare
 * (inspection). Payments sit below both and cannot call them, so the two ways a pending payment
 * finishes, the gateway's webhook and the expiry sweep, are driven from here: each hands
 * PaymentsService the settling steps (OrdersService.settle, PenaltiesService.settle) explicitly, and
 * PaymentsService runs the one its purpose needs in the transaction that records the outcome.
 */
@Injectable()
export class PaymentSettlement implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PaymentSettlement.name);
  private expiry: LeaderJob | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly payments: PaymentsService,
    private readonly orders: OrdersService,
    private readonly penalties: PenaltiesService,
    private readonly leadership: Leadership,
  ) {}

  private get settlers(): PaymentSettlers {
    return { order: this.orders, penalty: this.penalties };
  }

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

  /** The gateway's callback, for a top-up, an order's or a penalty's payment. */
  handleWebhook(rawBody: string | undefined, signature: string | undefined): Promise<WebhookResultDto> {
    return this.payments.handleWebhook(rawBody, signature, this.settlers);
  }

  /** Expires pending payments past their time, and the orders waiting for them. */
  expireOverdue(): Promise<number> {
    return this.payments.expireOverdue(this.settlers);
  }
}
