import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { PaymentsModule } from '../payments/payments.module';
import { QrVerifier } from '../validation/qr-verifier';
import { InspectionController } from './inspection.controller';
import { InspectionService } from './inspection.service';
import { PenaltiesService } from './penalties.service';

@Module({
  imports: [AuditModule, PaymentsModule],
  controllers: [InspectionController],
  providers: [InspectionService, PenaltiesService, QrVerifier],
  exports: [PenaltiesService],
})
export class InspectionModule {}
