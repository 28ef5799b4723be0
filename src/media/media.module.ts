import { BankCardsModule } from '../bank-cards/bank-cards.module';
import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit.module';
import { GateStateModule } from '../gate-state/gate-state.module';
import { TicketsModule } from '../tickets/tickets.module';
import { GateMedia } from './gate-media';
import { MediaController } from './media.controller';
import { MediumClones, MediumCounters } from './media-records';
import { MediaService } from './media.service';
import { MediumKeys } from './medium-keys';

/**
 * Media of an account: the routes, the record in Postgres, and GateMedia, which the gate path uses to
 * resolve a medium from the gates' Redis state. Above accounts and gate-state, below validation.
 */
@Module({
  imports: [AccountsModule, AuditModule, BankCardsModule, GateStateModule, TicketsModule],
  controllers: [MediaController],
  providers: [MediaService, MediumKeys, GateMedia, MediumClones, MediumCounters],
  exports: [MediaService, GateMedia, MediumClones, MediumCounters],
})
export class MediaModule {}
