import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError } from '../common/domain-error';
import type { WalletBalanceDto } from './wallet.dto';

export type LedgerTransactionKind = 'top_up' | 'purchase' | 'refund' | 'fare' | 'adjustment' | 'journey_correction' | 'penalty' | 'card_fare';

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
  /** Money the card acquirer has captured for us: it goes negative by what the acquirer owes us (bank cards' fares). */
  acquirerClearing: 'system:acquirer_clearing',
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

/**
 * The double-entry wallet ledger. Every movement is one ledger transaction of two entries that sum
 * to zero, written with the caller's transaction manager so it commits or rolls back with the use
 * case. The database checks the sum at commit and keeps wallet balances in step with the entries.
 *
 * `transfer` returns the wallet movements it made; a caller moving a wallet hands them to the gates
 * through GateWallet (in the transaction, and after its commit): no hidden listeners.
 */
@Injectable()
export class Ledger {
  async transfer(em: EntityManager, transfer: Transfer): Promise<WalletMovement[]> {
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
    return walletMovements(transfer);
  }

  async walletBalance(em: EntityManager, accountId: string): Promise<WalletBalanceDto> {
    const [row] = await em.query<Array<{ balance: string }>>(`SELECT balance FROM ledger_accounts WHERE id = $1`, [walletId(accountId)]);
    return { balance: row ? Number(row.balance) : 0, currency: 'VND' };
  }
}

function walletMovements({ from, to, amount, kind, reference }: Transfer): WalletMovement[] {
  const movements: WalletMovement[] = [];
  if (typeof from !== 'string') movements.push({ accountId: from.wallet, delta: -amount, kind, reference });
  if (typeof to !== 'string') movements.push({ accountId: to.wallet, delta: amount, kind, reference });
  return movements;
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
