import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { NetworkModule } from '../network/network.module';
import { FaresController } from './fares.controller';
import { FaresService } from './fares.service';
import { GtfsController } from './gtfs/gtfs.controller';

@Module({
  imports: [AuditModule, NetworkModule],
  controllers: [FaresController, GtfsController],
  providers: [FaresService],
  exports: [FaresService],
})
export class FaresModule {}
