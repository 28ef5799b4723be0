import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Ledger, type WalletMovement } from '../payments/ledger';
import { AccountGateState } from './account-gate-state';
import { GateAccountsService } from './gate-accounts.service';

/**
 * Keeps the gates' balance mirror in step with wallets: a top-up, a purchase from the wallet or a
 * refund moves it once its transaction has committed. Fares are the gates' own movements (the gate
 * script already charged the mirror), so they are left out. Money coming in first pays what the rider
 * owes from journeys the wallet could not cover, in the same transaction.
 */
@Injectable()
export class WalletMirror implements OnModuleInit {
  constructor(
    private readonly ledger: Ledger,
    private readonly gateState: AccountGateState,
    private readonly accounts: GateAccountsService,
  ) {}

  onModuleInit(): void {
    this.ledger.registerWalletListener({
      duringTransaction: async (em, movement) => {
        if (movement.kind !== 'fare' && movement.delta > 0) await this.accounts.collectOwedFares(em, movement.accountId);
      },
      afterCommit: async (movement: WalletMovement) => {
        if (movement.kind !== 'fare') await this.gateState.credit(movement.accountId, movement.delta);
      },
    });
  }
}
