import { Module } from '@nestjs/common';
import { IdempotencyStore } from './idempotency';
import { Ledger } from './ledger';
import { PAYMENT_GATEWAY } from './payment-gateway';
import { PaymentsController } from './payments.controller';
import { PaymentsService } from './payments.service';
import { SandboxGateway } from './sandbox-gateway';

@Module({
  controllers: [PaymentsController],
  providers: [Ledger, IdempotencyStore, PaymentsService, SandboxGateway, { provide: PAYMENT_GATEWAY, useExisting: SandboxGateway }],
  exports: [Ledger, IdempotencyStore, PaymentsService],
})
export class PaymentsModule {}
