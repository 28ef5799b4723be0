import { Module } from '@nestjs/common';
import { FaresModule } from '../fares/fares.module';
import { GateStateModule } from '../gate-state/gate-state.module';
import { PaymentsModule } from '../payments/payments.module';
import { JourneyCompletion } from './journey-completion';
import { JourneysController } from './journeys.controller';
import { JourneysService } from './journeys.service';

@Module({
  imports: [FaresModule, GateStateModule, PaymentsModule],
  controllers: [JourneysController],
  providers: [JourneysService, JourneyCompletion],
  exports: [JourneysService],
})
export class JourneysModule {}
