import { Module } from '@nestjs/common';
import { FaresModule } from '../fares/fares.module';
import { PaymentsModule } from '../payments/payments.module';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';
import { QrTokens } from './qr-tokens';
import { TicketStateStore } from './ticket-state.store';
import { TicketsController } from './tickets.controller';
import { TicketsService } from './tickets.service';

@Module({
  imports: [FaresModule, PaymentsModule],
  controllers: [OrdersController, TicketsController],
  providers: [OrdersService, TicketsService, QrTokens, TicketStateStore],
})
export class TicketsModule {}
