import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { DomainError } from '../common/domain-error';
import type { WalletBalanceDto } from './wallet.dto';

export type LedgerTransactionKind = 'top_up' | 'purchase' | 'refund' | 'fare' | 'adjustment' | 'journey_correction' | 'penalty';

/** The scheme's own ledger accounts (seeded by the payments migration). */
export const SYSTEM_LEDGER_ACCOUNTS = {
  /** Money the payment gateway has collected for us: it goes negative by what the gateway owes us. */
  gatewayClearing: 'system:gateway_clearing',
  /** Ticket sales, before settlement allocates them to operators. */
  ticketSales: 'system:ticket_sales',
  /** Support adjustments: the scheme's side of money a support agent moves into or out of a wallet. */
  adjustments: 'system:adjustments',
  /** Penalty fares paid from wallets, before settlement shows them per operator. */
  penaltyRevenue: 'system:penalty_revenue',
} as const;

type SystemLedgerAccount = (typeof SYSTEM_LEDGER_ACCOUNTS)[keyof typeof SYSTEM_LEDGER_ACCOUNTS];

/** Either a passenger's wallet or one of the system accounts. */
export type LedgerAccount = { wallet: string } | SystemLedgerAccount;

export interface Transfer {
  kind: LedgerTransactionKind;
  /** What the movement is for: a payment, order or ticket id. */
  reference: string;
  from: LedgerAccount;
  to: LedgerAccount;
  /** Integer đồng, more than zero. */
  amount: number;
}

/** Money into (delta > 0) or out of (delta < 0) one passenger's wallet. */
export interface WalletMovement {
  accountId: string;
  delta: number;
  kind: LedgerTransactionKind;
  reference: string;
}

/** Another module that keeps something in step with wallets (the gates' balance mirror). */
export interface WalletListener {
  /** Inside the transaction that moved the wallet, after its entries are written. */
  duringTransaction?(em: EntityManager, movement: WalletMovement): Promise<void>;
  /** Once that transaction has committed; never for one that rolled back. Failures are logged, not thrown. */
  afterCommit?(movement: WalletMovement): Promise<void>;
}

/**
 * The double-entry wallet ledger. Every movement is one ledger transaction of two entries that sum
 * to zero, written with the caller's transaction manager so it commits or rolls back with the use
 * case. The database checks the sum at commit and keeps wallet balances in step with the entries.
 */
@Injectable()
export class Ledger implements OnModuleInit {
  private readonly logger = new Logger(Ledger.name);
  private readonly listeners: WalletListener[] = [];
  /** Wallet movements of transactions still open, told to listeners when the outermost one commits. */
  private readonly uncommitted = new WeakMap<QueryRunner, WalletMovement[]>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    const subscriber: EntitySubscriberInterface = {
      afterTransactionCommit: ({ queryRunner }) => this.transactionEnded(queryRunner, true),
      afterTransactionRollback: ({ queryRunner }) => this.transactionEnded(queryRunner, false),
    };
    this.dataSource.subscribers.push(subscriber);
  }

  registerWalletListener(listener: WalletListener): void {
    this.listeners.push(listener);
  }

  async transfer(em: EntityManager, transfer: Transfer): Promise<void> {
    if (!Number.isSafeInteger(transfer.amount) || transfer.amount <= 0) {
      throw new Error(`a ledger transfer needs a positive whole number of đồng, got ${transfer.amount}`);
    }
    for (const account of [transfer.from, transfer.to]) if (typeof account !== 'string') await ensureWallet(em, account.wallet);
    if (typeof transfer.from !== 'string') {
      // Locking the wallet row serialises every debit of one wallet, so two purchases cannot both spend the same đồng.
      const balance = await lockedBalance(em, transfer.from.wallet);
      if (balance < transfer.amount) {
        throw new DomainError('conflict', 'INSUFFICIENT_BALANCE', `The wallet holds ${balance} đồng; this needs ${transfer.amount}`);
      }
    }
    const [row] = await em.query<Array<{ id: string }>>(`INSERT INTO ledger_transactions (kind, reference) VALUES ($1, $2) RETURNING id`, [
      transfer.kind,
      transfer.reference,
    ]);
    await em.query(
      `INSERT INTO ledger_entries (transaction_id, ledger_account_id, amount) VALUES ($1, $2, $3), ($1, $4, $5)`,
      [row.id, ledgerAccountId(transfer.from), -transfer.amount, ledgerAccountId(transfer.to), transfer.amount],
    );
    await this.told(em, transfer);
  }

  private async told(em: EntityManager, { from, to, amount, kind, reference }: Transfer): Promise<void> {
    const movements: WalletMovement[] = [];
    if (typeof from !== 'string') movements.push({ accountId: from.wallet, delta: -amount, kind, reference });
    if (typeof to !== 'string') movements.push({ accountId: to.wallet, delta: amount, kind, reference });
    if (movements.length === 0 || this.listeners.length === 0) return;
    for (const movement of movements) for (const listener of this.listeners) await listener.duringTransaction?.(em, movement);
    const runner = em.queryRunner;
    if (runner?.isTransactionActive) {
      this.uncommitted.set(runner, [...(this.uncommitted.get(runner) ?? []), ...movements]);
    } else {
      await this.tellCommitted(movements); // no transaction: already committed
    }
  }

  private async transactionEnded(runner: QueryRunner, committed: boolean): Promise<void> {
    // A savepoint released or rolled back inside a transaction: wait for the outermost one. Wallet
    // movements are never made inside nested transactions, so a savepoint rollback loses none.
    if (runner.isTransactionActive) return;
    const movements = this.uncommitted.get(runner);
    this.uncommitted.delete(runner);
    if (committed && movements) await this.tellCommitted(movements);
  }

  private async tellCommitted(movements: readonly WalletMovement[]): Promise<void> {
    for (const movement of movements) {
      for (const listener of this.listeners) {
        await listener.afterCommit?.(movement).catch((error: unknown) => {
          this.logger.error({ err: error, accountId: movement.accountId, delta: movement.delta }, 'a wallet listener failed after commit');
        });
      }
    }
  }

  async walletBalance(em: EntityManager, accountId: string): Promise<WalletBalanceDto> {
    const [row] = await em.query<Array<{ balance: string }>>(`SELECT balance FROM ledger_accounts WHERE id = $1`, [walletId(accountId)]);
    return { balance: row ? Number(row.balance) : 0, currency: 'VND' };
  }
}

function walletId(accountId: string): string {
  return `wallet:${accountId}`;
}

function ledgerAccountId(account: LedgerAccount): string {
  return typeof account === 'string' ? account : walletId(account.wallet);
}

async function ensureWallet(em: EntityManager, accountId: string): Promise<void> {
  await em.query(`INSERT INTO ledger_accounts (id, kind, owner_account_id) VALUES ($1, 'wallet', $2) ON CONFLICT (id) DO NOTHING`, [
    walletId(accountId),
    accountId,
  ]);
}

async function lockedBalance(em: EntityManager, accountId: string): Promise<number> {
  const [row] = await em.query<Array<{ balance: string }>>(`SELECT balance FROM ledger_accounts WHERE id = $1 FOR UPDATE`, [walletId(accountId)]);
  return Number(row.balance);
}
