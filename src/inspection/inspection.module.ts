import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { PaymentsModule } from '../payments/payments.module';
import { DynamicQrVerifier } from '../validation/dynamic-qr-verifier';
import { QrVerifier } from '../validation/qr-verifier';
import { InspectionController } from './inspection.controller';
import { InspectionService } from './inspection.service';
import { PenaltiesService } from './penalties.service';

@Module({
  imports: [AuditModule, PaymentsModule],
  controllers: [InspectionController],
  providers: [InspectionService, PenaltiesService, QrVerifier, DynamicQrVerifier],
  exports: [PenaltiesService],
})
export class InspectionModule {}
