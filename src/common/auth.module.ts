import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccountsModule } from '../accounts/accounts.module';
import { DevicesModule } from '../devices/devices.module';
import { AccessGuard } from './access.guard';
import { Authenticator } from './authenticator';

/** Who calls: the Authenticator, and the guard that applies every route's @Public() or @Roles(). */
@Module({
  imports: [AccountsModule, DevicesModule],
  // Global through the container, so every app built from AppModule, tests included, gets it.
  providers: [Authenticator, { provide: APP_GUARD, useClass: AccessGuard }],
  exports: [Authenticator],
})
export class AuthModule {}
