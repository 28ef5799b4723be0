import { Module, type Provider } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { AccountGateState } from './account-gate-state';
import { CardGateState } from './card-gate-state';
import { GateScript } from './gate-script';
import { GateKeys } from './gate-state';
import { GateTapUndo } from './gate-tap-undo';
import { MediaGateState } from './media-gate-state';
import { TicketStateStore } from './ticket-state.store';

/**
 * The gate state's one owner: every Redis key and hash field of the gates (gate-state.ts), the Lua
 * scripts that change them, and the typed stores over them. It sits below tickets, payments and
 * validation, which reach the state only through these providers.
 */
@Module({
  providers: [gateKeysProvider(), AccountGateState, CardGateState, GateScript, GateTapUndo, MediaGateState, TicketStateStore],
  exports: [GateKeys, AccountGateState, CardGateState, GateScript, GateTapUndo, MediaGateState, TicketStateStore],
})
export class GateStateModule {}

/** The gate keys for the configured shards and stream (also for the tap persister's thread). */
export function gateKeysProvider(): Provider {
  return { provide: GateKeys, useFactory: (config: AppConfig) => new GateKeys(config.gate), inject: [APP_CONFIG] };
}
