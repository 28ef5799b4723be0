import { Module } from '@nestjs/common';
import { AccountGateState } from './account-gate-state';
import { CardGateState } from './card-gate-state';
import { GateScript } from './gate-script';
import { GateTapUndo } from './gate-tap-undo';
import { MediaGateState } from './media-gate-state';
import { TicketStateStore } from './ticket-state.store';

/**
 * The gate state's one owner: every Redis key and hash field of the gates (gate-state.ts), the Lua
 * scripts that change them, and the typed stores over them. It sits below tickets, payments and
 * validation, which reach the state only through these providers.
 */
@Module({
  providers: [AccountGateState, CardGateState, GateScript, GateTapUndo, MediaGateState, TicketStateStore],
  exports: [AccountGateState, CardGateState, GateScript, GateTapUndo, MediaGateState, TicketStateStore],
})
export class GateStateModule {}
