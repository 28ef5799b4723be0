import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { NetworkController } from './network.controller';
import { LineEntity, OperatorEntity, StationEntity } from './network.entities';
import { NetworkService } from './network.service';

@Module({
  imports: [TypeOrmModule.forFeature([OperatorEntity, LineEntity, StationEntity])],
  controllers: [NetworkController],
  providers: [NetworkService],
  exports: [NetworkService],
})
export class NetworkModule {}
