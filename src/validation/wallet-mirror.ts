import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DomainError } from '../common/domain-error';
import { Ledger, type WalletMovement } from '../payments/ledger';
import { RedisRetries } from '../redis/redis-retries';
import { withTimeout } from '../redis/redis.service';
import { AccountGateState } from './account-gate-state';
import { GateAccountsService } from './gate-accounts.service';

/** How long a payment out of the wallet waits for the gates' balance (Redis) before it is refused as unavailable. */
const GATE_BALANCE_TIMEOUT_MS = 500;

/**
 * Keeps the gates' balance mirror in step with wallets: a top-up, a purchase from the wallet or a
 * refund moves it once its transaction has committed. Fares are the gates' own movements (the gate
 * script already charged the mirror), so they are left out. Money coming in first pays what the rider
 * owes from journeys the wallet could not cover, in the same transaction; money going out may not
 * spend fares the gates charged that Postgres has not heard of yet, nor the maximum fare an open
 * pay-as-you-go journey may still charge at its exit.
 */
@Injectable()
export class WalletMirror implements OnModuleInit {
  constructor(
    private readonly ledger: Ledger,
    private readonly gateState: AccountGateState,
    private readonly accounts: GateAccountsService,
    private readonly retries: RedisRetries,
  ) {}

  onModuleInit(): void {
    this.ledger.registerWalletListener({
      duringTransaction: async (em, movement) => {
        if (movement.kind === 'fare') return;
        if (movement.delta > 0) await this.accounts.collectOwedFares(em, movement.accountId);
        else await this.refuseWhatTheGatesCharged(movement);
      },
      afterCommit: async (movement: WalletMovement) => {
        if (movement.kind !== 'fare') await this.moveGateBalance(movement);
      },
    });
  }

  /**
   * The wallet in Postgres lags the gates by the fares of exits the tap persister has not written yet
   * (under a second; the whole outage while Postgres or Redis is down). A payment out of it must fit the
   * gates' balance too, or the rider ends up owing those fares without ever having been offline; when
   * Redis does not answer, it waits (503, to be retried with its Idempotency-Key).
   */
  private async refuseWhatTheGatesCharged(movement: WalletMovement): Promise<void> {
    // An open pay-as-you-go journey holds its maximum fare: its exit may charge that much.
    const gateBalance = await withTimeout(this.gateState.spendable(movement.accountId), GATE_BALANCE_TIMEOUT_MS, 'Redis did not answer').catch(() => {
      throw new DomainError('unavailable', 'SERVICE_UNAVAILABLE', "The gates' balance cannot be read just now; retry shortly");
    });
    if (gateBalance !== null && gateBalance + movement.delta < 0) {
      throw new DomainError('conflict', 'INSUFFICIENT_BALANCE', `The wallet holds ${Math.max(gateBalance, 0)} đồng after fares charged at the gates and the maximum fare of an open journey; this needs ${-movement.delta}`);
    }
  }

  /**
   * Moves the gates' balance by a committed movement, once (applyMovement ignores a repeat), retried
   * until Redis takes it: given up, the gates' balance would stay off the wallet for good, since a
   * rebuild only fills in balances Redis lacks.
   */
  private async moveGateBalance(movement: WalletMovement): Promise<void> {
    const { accountId, kind, reference, delta } = movement;
    await this.retries.write(`the wallet movement ${kind}:${reference} (${delta} đồng) of account ${accountId}`, () =>
      this.gateState.applyMovement(accountId, `${kind}:${reference}`, delta),
    );
  }
}
