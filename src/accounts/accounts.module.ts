import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { PaymentsModule } from '../payments/payments.module';
import { AccessTokens } from './access-tokens';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';
import { ConcessionsController } from './concessions.controller';
import { ConcessionsService } from './concessions.service';
import { LoginLimiter } from './login-limiter';
import { PasswordHasher } from './password-hasher';
import { RegistrationLimiter } from './registration-limiter';
import { SessionStore } from './sessions';

@Module({
  imports: [AuditModule, PaymentsModule],
  controllers: [AccountsController, ConcessionsController],
  providers: [AccessTokens, AccountsService, ConcessionsService, LoginLimiter, PasswordHasher, RegistrationLimiter, SessionStore],
  exports: [AccessTokens, AccountsService],
})
export class AccountsModule {}
