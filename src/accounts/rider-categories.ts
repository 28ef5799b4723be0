import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { RiderCategory } from '../fares/rider-category';
import { AccountGateState } from '../gate-state/account-gate-state';
import { RedisRetries } from '../redis/redis-retries';
import { riderCategoryTimeline, type CategorySpan } from './rider-category-rules';

/**
 * The rider category of accounts over time (rider-category-rules.ts), from Postgres: for the gates,
 * whose cards ride at the account's category of the moment (AccountGateState, `…:a:<id>:rider`).
 * Call `publish` after a transaction that changes an account's concessions or verified date of birth
 * commits; the rebuild writes every account's.
 */
@Injectable()
export class RiderCategories {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gate: AccountGateState,
    private readonly retries: RedisRetries,
  ) {}

  async timelines(accountIds: readonly string[], now = Date.now()): Promise<Map<string, CategorySpan[]>> {
    const rows = await this.db.query<Array<{ id: string; dob: string | null; categories: RiderCategory[]; ends: Array<string | null> }>>(
      `SELECT a.id, a.verified_date_of_birth::text AS dob,
              coalesce(array_agg(c.category) FILTER (WHERE c.id IS NOT NULL), '{}') AS categories,
              coalesce(array_agg((extract(epoch FROM c.valid_until) * 1000)::bigint) FILTER (WHERE c.id IS NOT NULL), '{}') AS ends
         FROM accounts a
         LEFT JOIN concession_claims c ON c.account_id = a.id AND c.status = 'approved' AND (c.valid_until IS NULL OR c.valid_until > to_timestamp($2 / 1000.0))
        WHERE a.id = ANY($1::uuid[]) GROUP BY a.id`,
      [accountIds, now],
    );
    return new Map(
      rows.map((row) => [
        row.id,
        riderCategoryTimeline(row.dob, row.categories.map((category, index) => ({ category, validUntil: row.ends[index] === null ? null : Number(row.ends[index]) })), now),
      ]),
    );
  }

  /** The gates' copy of the accounts' categories, after the commit that changed them (retried while Redis is away). */
  async publish(accountIds: readonly string[]): Promise<void> {
    const timelines = await this.timelines(accountIds);
    const accounts = [...timelines].map(([accountId, spans]) => ({ accountId, spans }));
    await this.retries.write(`the rider categories of accounts ${accountIds.join(', ')}`, () => this.gate.setRiderCategories(accounts));
  }
}
