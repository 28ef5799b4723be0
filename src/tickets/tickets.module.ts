import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { FaresModule } from '../fares/fares.module';
import { PaymentsModule } from '../payments/payments.module';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';
import { DynamicQrCredentials } from './dynamic-qr';
import { QrTokens } from './qr-tokens';
import { GateStateModule } from '../gate-state/gate-state.module';
import { TicketsController } from './tickets.controller';
import { TicketsService } from './tickets.service';
import { TicketFirstUses } from './ticket-first-uses';

/** Orders and tickets; OrdersService settles orders' payments when payment-outcomes' PaymentSettlement hands it one. */
@Module({
  imports: [AuditModule, FaresModule, PaymentsModule, GateStateModule],
  controllers: [OrdersController, TicketsController],
  providers: [OrdersService, TicketsService, QrTokens, DynamicQrCredentials, TicketFirstUses],
  exports: [TicketsService, OrdersService, DynamicQrCredentials, TicketFirstUses],
})
export class TicketsModule {}
