import { Module } from '@nestjs/common';
import { AuthModule } from '../common/auth.module';
import { FaresModule } from '../fares/fares.module';
import { PaymentsModule } from '../payments/payments.module';
import { AccountGateState } from './account-gate-state';
import { GateAccountsService } from './gate-accounts.service';
import { GateScript } from './gate-script';
import { GateStateBuilder } from './gate-state-builder';
import { GateRoute } from './gate.route';
import { GateService } from './gate.service';
import { QrVerifier } from './qr-verifier';
import { RecordedTaps } from './recorded-taps';
import { TapPersister } from './tap-persister';
import { TapPersisterRunner } from './tap-persister.runner';
import { ValidationController } from './validation.controller';
import { WalletMirror } from './wallet-mirror';

/** The gate path: validations, offline uploads, the denylist, the tap persister and the gate state's rebuild. */
@Module({
  imports: [FaresModule, PaymentsModule, AuthModule],
  controllers: [ValidationController],
  providers: [QrVerifier, GateScript, GateService, RecordedTaps, GateRoute, AccountGateState, GateAccountsService, TapPersister, TapPersisterRunner, GateStateBuilder, WalletMirror],
  exports: [AccountGateState, GateAccountsService, GateStateBuilder],
})
export class ValidationModule {}
