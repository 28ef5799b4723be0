import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { AccountGateState } from '../gate-state/account-gate-state';
import { RedisRetries } from '../redis/redis-retries';
import { withTimeout } from '../redis/redis.service';
import { Ledger, SYSTEM_LEDGER_ACCOUNTS, type WalletMovement } from './ledger';

/** How long a payment out of the wallet waits for the gates' balance (Redis) before it is refused as unavailable. */
const GATE_BALANCE_TIMEOUT_MS = 500;

/**
 * The port through which wallet movements reach the gates' balance (`{g<shard>}:a:<id>:wallet`, owned by the
 * gate-state module). Whoever moves a wallet with `Ledger.transfer` hands the movements it returns
 * here: `duringTransaction` in the same transaction, and `afterCommit` once that transaction has
 * committed, or `afterRollback` when it rolled back. Fares are the gates' own movements (gate.lua
 * already charged the balance), so they are left out.
 *
 * Money coming in first pays what the rider owes from journeys the wallet could not cover, in the
 * same transaction. Money going out may not spend fares the gates charged that Postgres has not
 * heard of yet, nor the maximum fare an open pay-as-you-go journey may still charge at its exit: it is
 * taken from the gates' balance in the transaction, before the commit, atomically with that check, so
 * a gate entry cannot pass on money a committing payment spends; a rollback gives it back.
 */
@Injectable()
export class GateWallet {
  constructor(
    private readonly ledger: Ledger,
    private readonly gateState: AccountGateState,
    private readonly retries: RedisRetries,
  ) {}

  /** Inside the transaction that moved the wallets, after the ledger entries are written. */
  async duringTransaction(em: EntityManager, movements: readonly WalletMovement[]): Promise<void> {
    for (const movement of movements) {
      if (movement.kind === 'fare') continue;
      if (movement.delta > 0) await this.collectOwedFares(em, movement.accountId);
      else await this.spendAtTheGates(movement);
    }
  }

  /**
   * The caller's transaction, which moves `moved` (filled as it goes): if it fails, `afterRollback`
   * gives back what the gates' balance took for it, and the error goes on.
   */
  async orGiveBack<T>(moved: readonly WalletMovement[], transaction: Promise<T>): Promise<T> {
    try {
      return await transaction;
    } catch (error) {
      await this.afterRollback(moved);
      throw error;
    }
  }

  /**
   * After that transaction rolled back (or may have): gives back, once, what `duringTransaction` took
   * from the gates' balance for it. Retried like `afterCommit`; never throws.
   */
  async afterRollback(movements: readonly WalletMovement[]): Promise<void> {
    for (const { accountId, kind, reference, delta } of movements) {
      if (kind === 'fare' || delta >= 0) continue;
      await this.retries.write(`giving back the wallet movement ${kind}:${reference} (${delta} đồng) of account ${accountId} after a rollback`, () =>
        this.gateState.releaseMovement(accountId, `${kind}:${reference}`, delta),
      );
    }
  }

  /**
   * Once that transaction committed: moves the gates' balance by each movement, once (applyMovement
   * ignores a repeat, and a payment out of the wallet was already taken in the transaction), retried until Redis takes it: given up, the gates' balance would stay off the
   * wallet for good, since a rebuild only fills in balances Redis lacks. Never throws.
   */
  async afterCommit(movements: readonly WalletMovement[]): Promise<void> {
    for (const { accountId, kind, reference, delta } of movements) {
      if (kind === 'fare') continue;
      await this.retries.write(`the wallet movement ${kind}:${reference} (${delta} đồng) of account ${accountId}`, () =>
        this.gateState.applyMovement(accountId, `${kind}:${reference}`, delta),
      );
    }
  }

  /**
   * Takes what the account owes for journeys its wallet could not cover (offline trips) from the
   * wallet, oldest first, as far as the balance goes, in the caller's transaction. The gates'
   * balance needs no change (it already counted those fares). Returns the amount collected.
   */
  async collectOwedFares(em: EntityManager, accountId: string): Promise<number> {
    const owed = await em.query<Array<{ id: string; entered_at: Date; unpaid: string }>>(
      `SELECT id, entered_at, unpaid FROM journeys WHERE account_id = $1 AND unpaid > 0 ORDER BY entered_at FOR UPDATE`,
      [accountId],
    );
    let { balance } = await this.ledger.walletBalance(em, accountId);
    let collected = 0;
    for (const journey of owed) {
      const amount = Math.min(balance, Number(journey.unpaid));
      if (amount <= 0) break;
      await this.ledger.transfer(em, { kind: 'fare', reference: journey.id, from: { wallet: accountId }, to: SYSTEM_LEDGER_ACCOUNTS.ticketSales, amount });
      await em.query(`UPDATE journeys SET unpaid = unpaid - $3 WHERE id = $1 AND entered_at = $2`, [journey.id, journey.entered_at, amount]);
      balance -= amount;
      collected += amount;
    }
    return collected;
  }

  /**
   * The wallet in Postgres lags the gates by the fares of exits the tap persister has not written yet
   * (under a second; the whole outage while Postgres or Redis is down), and an open journey may still
   * charge its maximum fare. A payment out of it must fit what the gates leave spendable, or the rider
   * ends up owing: it is taken from the gates' balance now (AccountGateState.spendMovement), or refused.
   * When Redis does not answer, it waits (503, to be retried with its Idempotency-Key; the caller's
   * `afterRollback` gives back a debit Redis applied without answering).
   */
  private async spendAtTheGates(movement: WalletMovement): Promise<void> {
    const fits = await withTimeout(this.gateState.spendMovement(movement.accountId, `${movement.kind}:${movement.reference}`, movement.delta), GATE_BALANCE_TIMEOUT_MS, 'Redis did not answer').catch(() => {
      throw new DomainError('unavailable', 'SERVICE_UNAVAILABLE', "The gates' balance cannot be read just now; retry shortly");
    });
    if (!fits) {
      throw new DomainError(
        'conflict',
        'INSUFFICIENT_BALANCE',
        `The wallet cannot spend ${-movement.delta} đồng after fares charged at the gates and the maximum fare of an open journey`,
      );
    }
  }
}
