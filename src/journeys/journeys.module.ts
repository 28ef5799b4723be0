import { Module } from '@nestjs/common';
import { FaresModule } from '../fares/fares.module';
import { PaymentsModule } from '../payments/payments.module';
import { JourneyCompletion } from './journey-completion';
import { JourneysController } from './journeys.controller';
import { JourneysService } from './journeys.service';

@Module({
  imports: [FaresModule, PaymentsModule],
  controllers: [JourneysController],
  providers: [JourneysService, JourneyCompletion],
  exports: [JourneysService],
})
export class JourneysModule {}
