import { Module } from '@nestjs/common';
import { GateStateModule } from '../gate-state/gate-state.module';
import { GateWallet } from './gate-wallet';
import { IdempotencyStore } from './idempotency';
import { Ledger } from './ledger';
import { PAYMENT_GATEWAY } from './payment-gateway';
import { PaymentsController } from './payments.controller';
import { PaymentsService } from './payments.service';
import { SandboxGateway } from './sandbox-gateway';

/** Wallets, payments and the ledger; GateWallet is the port through which wallet movements reach the gates' balance. */
@Module({
  imports: [GateStateModule],
  controllers: [PaymentsController],
  providers: [Ledger, IdempotencyStore, PaymentsService, GateWallet, SandboxGateway, { provide: PAYMENT_GATEWAY, useExisting: SandboxGateway }],
  exports: [Ledger, IdempotencyStore, PaymentsService, GateWallet],
})
export class PaymentsModule {}
