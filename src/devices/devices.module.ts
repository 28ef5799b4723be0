import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit.module';
import { NetworkModule } from '../network/network.module';
import { DevicesController } from './devices.controller';
import { DevicesService } from './devices.service';
import { DisabledDevices } from './disabled-devices';

@Module({
  imports: [AccountsModule, AuditModule, NetworkModule],
  controllers: [DevicesController],
  providers: [DevicesService, DisabledDevices],
  exports: [DisabledDevices],
})
export class DevicesModule {}
