import { Module } from '@nestjs/common';
import { FaresModule } from '../fares/fares.module';
import { PaymentsModule } from '../payments/payments.module';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';
import { QrTokens } from './qr-tokens';
import { GateStateModule } from '../gate-state/gate-state.module';
import { TicketsController } from './tickets.controller';
import { TicketsService } from './tickets.service';

@Module({
  imports: [FaresModule, PaymentsModule, GateStateModule],
  controllers: [OrdersController, TicketsController],
  providers: [OrdersService, TicketsService, QrTokens],
  exports: [TicketsService],
})
export class TicketsModule {}
