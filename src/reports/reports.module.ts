import { Module } from '@nestjs/common';
import { SettlementModule } from '../settlement/settlement.module';
import { ReportsController } from './reports.controller';
import { ReportsService } from './reports.service';

/** Read-only figures for operators' own systems and the console, beyond the daily statement. */
@Module({
  imports: [SettlementModule],
  controllers: [ReportsController],
  providers: [ReportsService],
})
export class ReportsModule {}
