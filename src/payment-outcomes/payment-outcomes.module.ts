import { Module } from '@nestjs/common';
import { InspectionModule } from '../inspection/inspection.module';
import { PaymentsModule } from '../payments/payments.module';
import { TicketsModule } from '../tickets/tickets.module';
import { PaymentCallbacksController } from './payment-callbacks.controller';
import { PaymentSettlement } from './payment-settlement';

/** The gateway's webhook and the expiry sweep: a payment's outcome settles the order or the penalty fare it pays. */
@Module({
  imports: [InspectionModule, PaymentsModule, TicketsModule],
  controllers: [PaymentCallbacksController],
  providers: [PaymentSettlement],
})
export class PaymentOutcomesModule {}
