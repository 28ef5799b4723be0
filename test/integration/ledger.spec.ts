import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource, type EntityManager } from 'typeorm';
import { Ledger, SYSTEM_LEDGER_ACCOUNTS } from '../../src/payments/ledger';
import { testAccount } from '../support/auth';
import { useTestApp } from '../support/http';
import { expectLedgerBalanced } from '../support/money';

/** The database refuses a broken ledger on its own, whatever code writes to it. */
describe('the wallet ledger in Postgres', () => {
  const { app } = useTestApp();
  const db = () => app().get(DataSource);
  const ledger = () => app().get(Ledger);

  afterEach(async () => {
    await expectLedgerBalanced(app());
  });

  async function fundedWallet(application: NestFastifyApplication, amount: number): Promise<string> {
    const { id } = await testAccount(application, 'passenger');
    await db().transaction((em) => ledger().transfer(em, { kind: 'adjustment', reference: 'test', from: SYSTEM_LEDGER_ACCOUNTS.gatewayClearing, to: { wallet: id }, amount }));
    return id;
  }

  const walletRow = async (accountId: string) =>
    (await db().query<Array<{ balance: string; version: string }>>(`SELECT balance, version FROM ledger_accounts WHERE id = $1`, [`wallet:${accountId}`]))[0];

  async function newTransaction(em: EntityManager): Promise<string> {
    const [row] = await em.query<Array<{ id: string }>>(`INSERT INTO ledger_transactions (kind, reference) VALUES ('adjustment', 'test') RETURNING id`);
    return row.id;
  }

  it('keeps the wallet balance in step with its entries', async () => {
    const accountId = await fundedWallet(app(), 10_000);
    await db().transaction((em) => ledger().transfer(em, { kind: 'purchase', reference: 'test', from: { wallet: accountId }, to: SYSTEM_LEDGER_ACCOUNTS.ticketSales, amount: 4_000 }));
    expect(await walletRow(accountId)).toEqual({ balance: '6000', version: '2' });
    expect((await ledger().walletBalance(db().manager, accountId)).balance).toBe(6_000);
  });

  it('refuses at commit a transaction whose entries do not sum to zero', async () => {
    const accountId = await fundedWallet(app(), 10_000);
    await expect(
      db().transaction(async (em) => {
        const id = await newTransaction(em);
        await em.query(`INSERT INTO ledger_entries (transaction_id, ledger_account_id, amount) VALUES ($1, $2, 500)`, [id, `wallet:${accountId}`]);
      }),
    ).rejects.toThrow(/does not balance/);
    expect(await walletRow(accountId)).toEqual({ balance: '10000', version: '1' });
  });

  it('refuses to take a wallet below zero, even past the application check', async () => {
    const accountId = await fundedWallet(app(), 1_000);
    await expect(
      db().transaction(async (em) => {
        const id = await newTransaction(em);
        await em.query(`INSERT INTO ledger_entries (transaction_id, ledger_account_id, amount) VALUES ($1, $2, -1500), ($1, $3, 1500)`, [
          id,
          `wallet:${accountId}`,
          SYSTEM_LEDGER_ACCOUNTS.ticketSales,
        ]);
      }),
    ).rejects.toThrow(/wallet_balance_not_negative/);
    await expect(
      db().transaction((em) => ledger().transfer(em, { kind: 'purchase', reference: 'test', from: { wallet: accountId }, to: SYSTEM_LEDGER_ACCOUNTS.ticketSales, amount: 1_001 })),
    ).rejects.toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
    expect(await walletRow(accountId)).toEqual({ balance: '1000', version: '1' });
  });

  it('keeps entries append-only and balances out of reach of direct updates', async () => {
    const accountId = await fundedWallet(app(), 2_000);
    await expect(db().query(`UPDATE ledger_entries SET amount = amount * 2 WHERE ledger_account_id = $1`, [`wallet:${accountId}`])).rejects.toThrow(/append-only/);
    await expect(db().query(`DELETE FROM ledger_entries WHERE ledger_account_id = $1`, [`wallet:${accountId}`])).rejects.toThrow(/append-only/);
    await expect(db().query(`UPDATE ledger_accounts SET balance = 1000000 WHERE id = $1`, [`wallet:${accountId}`])).rejects.toThrow(/only through ledger entries/);
    expect(await walletRow(accountId)).toEqual({ balance: '2000', version: '1' });
  });

  it('writes nothing when the use case around a transfer rolls back', async () => {
    const accountId = await fundedWallet(app(), 3_000);
    await expect(
      db().transaction(async (em) => {
        await ledger().transfer(em, { kind: 'purchase', reference: 'rolled-back', from: { wallet: accountId }, to: SYSTEM_LEDGER_ACCOUNTS.ticketSales, amount: 3_000 });
        throw new Error('the use case failed after the transfer');
      }),
    ).rejects.toThrow('the use case failed');
    expect(await walletRow(accountId)).toEqual({ balance: '3000', version: '1' });
    const entries = await db().query<Array<{ n: string }>>(
      `SELECT count(*) AS n FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.reference = 'rolled-back'`,
    );
    expect(entries[0].n).toBe('0');
  });
});
