import { BankCardsModule } from '../bank-cards/bank-cards.module';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit.module';
import { Module } from '@nestjs/common';
import { AuthModule } from '../common/auth.module';
import { FaresModule } from '../fares/fares.module';
import { PaymentsModule } from '../payments/payments.module';
import { TicketsModule } from '../tickets/tickets.module';
import { GateStateModule } from '../gate-state/gate-state.module';
import { MediaModule } from '../media/media.module';
import { GateAccountsService } from './gate-accounts.service';
import { GateStateBuilder } from './gate-state-builder';
import { GateRoute } from './gate.route';
import { GateService } from './gate.service';
import { DynamicQrVerifier } from './dynamic-qr-verifier';
import { QrVerifier } from './qr-verifier';
import { RecordedTaps } from './recorded-taps';
import { FareCharger } from './fare-charger';
import { TapPartitions } from './tap-partitions';
import { TapPersister } from './tap-persister';
import { TapRecorder } from './tap-recorder';
import { TapPersisterRunner } from './tap-persister.runner';
import { ValidationController } from './validation.controller';

/** The gate path: validations, offline uploads, the denylist, the tap persister and the gate state's rebuild. */
@Module({
  imports: [AccountsModule, AuditModule, BankCardsModule, FaresModule, PaymentsModule, TicketsModule, GateStateModule, MediaModule, AuthModule],
  controllers: [ValidationController],
  providers: [QrVerifier, DynamicQrVerifier, GateService, RecordedTaps, GateRoute, GateAccountsService, FareCharger, TapPartitions, TapRecorder, TapPersister, TapPersisterRunner, GateStateBuilder],
  exports: [GateAccountsService, GateStateBuilder],
})
export class ValidationModule {}
