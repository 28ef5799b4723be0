import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { GateStateModule } from '../gate-state/gate-state.module';
import { PaymentsModule } from '../payments/payments.module';
import { AccessTokens } from './access-tokens';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';
import { ConcessionsController } from './concessions.controller';
import { ConcessionsService } from './concessions.service';
import { LoginLimiter } from './login-limiter';
import { PasswordHasher } from './password-hasher';
import { RegistrationLimiter } from './registration-limiter';
import { RiderCategories } from './rider-categories';
import { SessionStore } from './sessions';

@Module({
  imports: [AuditModule, GateStateModule, PaymentsModule],
  controllers: [AccountsController, ConcessionsController],
  providers: [AccessTokens, AccountsService, ConcessionsService, LoginLimiter, PasswordHasher, RegistrationLimiter, RiderCategories, SessionStore],
  exports: [AccessTokens, AccountsService, RiderCategories],
})
export class AccountsModule {}
