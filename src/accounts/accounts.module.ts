import { Module } from '@nestjs/common';
import { AccessTokens } from './access-tokens';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';
import { ConcessionsController } from './concessions.controller';
import { ConcessionsService } from './concessions.service';
import { LoginLimiter } from './login-limiter';
import { PasswordHasher } from './password-hasher';
import { SessionStore } from './sessions';

@Module({
  controllers: [AccountsController, ConcessionsController],
  providers: [AccessTokens, AccountsService, ConcessionsService, LoginLimiter, PasswordHasher, SessionStore],
  exports: [AccessTokens, AccountsService],
})
export class AccountsModule {}
