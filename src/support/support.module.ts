import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit.module';
import { JourneysModule } from '../journeys/journeys.module';
import { MediaModule } from '../media/media.module';
import { PaymentsModule } from '../payments/payments.module';
import { QrVerifier } from '../validation/qr-verifier';
import { ValidationModule } from '../validation/validation.module';
import { SupportController } from './support.controller';
import { SupportService } from './support.service';

@Module({
  imports: [AccountsModule, AuditModule, JourneysModule, MediaModule, PaymentsModule, ValidationModule],
  controllers: [SupportController],
  // Its own QrVerifier (keys from the configuration), rather than reaching into the gate path's module.
  providers: [SupportService, QrVerifier],
})
export class SupportModule {}
