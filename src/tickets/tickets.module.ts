import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { FaresModule } from '../fares/fares.module';
import { PaymentsModule } from '../payments/payments.module';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';
import { PaymentCallbacksController } from './payment-callbacks.controller';
import { PaymentSettlement } from './payment-settlement';
import { DynamicQrCredentials } from './dynamic-qr';
import { QrTokens } from './qr-tokens';
import { GateStateModule } from '../gate-state/gate-state.module';
import { TicketsController } from './tickets.controller';
import { TicketsService } from './tickets.service';

/** Orders and tickets; PaymentSettlement drives payments' webhook and expiry sweep and settles orders' payments. */
@Module({
  imports: [AuditModule, FaresModule, PaymentsModule, GateStateModule],
  controllers: [OrdersController, TicketsController, PaymentCallbacksController],
  providers: [OrdersService, TicketsService, QrTokens, DynamicQrCredentials, PaymentSettlement],
  exports: [TicketsService, DynamicQrCredentials],
})
export class TicketsModule {}
