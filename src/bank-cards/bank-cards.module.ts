import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { FaresModule } from '../fares/fares.module';
import { GateStateModule } from '../gate-state/gate-state.module';
import { PaymentsModule } from '../payments/payments.module';
import { ACQUIRER } from './acquirer';
import { BankCardsController } from './bank-cards.controller';
import { CardChargeJob } from './card-charge-job';
import { CardCharges } from './card-charges';
import { CardDebts } from './card-debts';
import { CardReconciliation } from './card-reconciliation';
import { CardTokens } from './card-tokens';
import { DevAcquirer } from './dev-acquirer';
import { OffAcquirer } from './off-acquirer';

/**
 * Bank cards: card ids and sealed tokens (CardTokens, used by the gate path), the acquirer port
 * (the development acquirer, or none), the charge job, debts and their recovery, and linking a
 * card to an account (CardDebts.link, for the media routes).
 */
@Module({
  imports: [AuditModule, FaresModule, GateStateModule, PaymentsModule],
  controllers: [BankCardsController],
  providers: [
    CardTokens,
    DevAcquirer,
    {
      provide: ACQUIRER,
      useFactory: (config: AppConfig, dev: DevAcquirer) => (config.bankCards.acquirer === 'dev' ? dev : new OffAcquirer()),
      inject: [APP_CONFIG, DevAcquirer],
    },
    CardCharges,
    CardChargeJob,
    CardDebts,
    CardReconciliation,
  ],
  exports: [CardTokens, CardCharges, CardDebts, ACQUIRER],
})
export class BankCardsModule {}
