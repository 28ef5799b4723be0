import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';

/** Money invariants that must hold after every test that moves money, whatever else runs in parallel. */
export async function expectLedgerBalanced(app: NestFastifyApplication): Promise<void> {
  const [row] = await app.get(DataSource).query<Array<{ total: string | null; unbalanced: string; drifted: string }>>(`
    SELECT (SELECT sum(amount) FROM ledger_entries) AS total,
           (SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0) t) AS unbalanced,
           (SELECT count(*) FROM ledger_accounts a
             WHERE a.kind = 'wallet' AND a.balance <> (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e WHERE e.ledger_account_id = a.id)) AS drifted`);
  expect({ total: Number(row.total ?? 0), unbalancedTransactions: Number(row.unbalanced), walletsNotEqualToEntries: Number(row.drifted) }).toEqual({
    total: 0,
    unbalancedTransactions: 0,
    walletsNotEqualToEntries: 0,
  });
}

export async function walletBalance(app: NestFastifyApplication, bearer: string): Promise<number> {
  const response = await request(app.getHttpServer()).get('/v1/wallet').set('Authorization', bearer).expect(200);
  return (response.body as { balance: number }).balance;
}

/** Tops the wallet up through the development gateway, as a passenger's app would. */
export async function topUp(app: NestFastifyApplication, bearer: string, amount: number): Promise<void> {
  const http = () => request(app.getHttpServer());
  const payment = await http().post('/v1/wallet/top-ups').set('Authorization', bearer).set('Idempotency-Key', randomUUID()).send({ amount }).expect(201);
  const completed = await http().post(`/v1/payments/sandbox/${(payment.body as { id: string }).id}/complete`).send({}).expect(200);
  expect(completed.body).toMatchObject({ webhookStatus: 200, webhookResponse: { status: 'succeeded', applied: true } });
}
