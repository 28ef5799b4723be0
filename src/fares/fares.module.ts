import { Module } from '@nestjs/common';
import { NetworkModule } from '../network/network.module';
import { FaresController } from './fares.controller';
import { FaresService } from './fares.service';

@Module({
  imports: [NetworkModule],
  controllers: [FaresController],
  providers: [FaresService],
  exports: [FaresService],
})
export class FaresModule {}
