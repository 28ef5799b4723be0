import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { LuaScript } from '../redis/lua-script';
import { RedisService } from '../redis/redis.service';
import { GateKeys, luaPrelude, riderCategoriesValue, type RiderCategoryFrom, type WalletField } from './gate-state';

/** An account's rider category over time, as the accounts module computes it (the first span from 0). */
export interface AccountRiderCategories {
  accountId: string;
  spans: readonly RiderCategoryFrom[];
}

export interface RestoredAccount {
  accountId: string;
  /** Its rider category over time. */
  categories: readonly RiderCategoryFrom[];
  balance: number;
  blocked: boolean;
  /** The spend of the current local day and week, for the caps (gate.lua keeps one per day and week in `…:a:<id>:spend`). */
  spend: { day: number; daySpent: number; dayModes: number; week: number; weekSpent: number; weekModes: number };
}

const BALANCE: WalletField = 'balance';
const STATUS: WalletField = 'status';
/** How long a wallet movement is remembered as applied: far longer than anyone retries it. */
const MOVED_MARKER_TTL_SECONDS = 2 * 24 * 3600;

/**
 * The gates' copy of a pay-as-you-go account: `{g<shard>}:a:<id>:wallet` with `balance` (đồng) and `status`
 * (active | blocked). The gate script charges it at exits; money that moves in Postgres moves it too:
 * call `applyMovement` after the transaction that moved the wallet has committed. A rebuild
 * restores what Redis lost from Postgres (`restore`).
 */
@Injectable()
export class AccountGateState {
  private readonly restoreSpend = LuaScript.fromFile(join(__dirname, 'restore-spend.lua'), luaPrelude());
  private readonly moveBalance = LuaScript.fromFile(join(__dirname, 'move-wallet-balance.lua'), luaPrelude());
  private readonly spendBalance = LuaScript.fromFile(join(__dirname, 'spend-wallet-balance.lua'), luaPrelude());
  private readonly releaseBalance = LuaScript.fromFile(join(__dirname, 'release-wallet-movement.lua'), luaPrelude());
  private readonly lowerSpendBy = LuaScript.fromFile(join(__dirname, 'lower-spend.lua'), luaPrelude());

  constructor(
    private readonly redis: RedisService,
    private readonly keys: GateKeys,
  ) {}

  /**
   * A committed wallet movement (`<kind>:<reference>`, e.g. `purchase:<orderId>`), applied once however
   * often it is sent: a retry after a lost reply changes nothing. True when this call moved the balance.
   */
  async applyMovement(accountId: string, movementId: string, delta: number): Promise<boolean> {
    const moved = await this.moveBalance.run(this.redis.client, [this.keys.wallet(accountId), this.keys.moved(accountId, movementId)], [String(delta), String(MOVED_MARKER_TTL_SECONDS)]);
    return moved === 1;
  }

  /**
   * A committed refund of a fare the gates counted towards the caps (`refundId`, e.g.
   * `journey_correction:<journeyId>`) lowers the spend of the local day and week it was counted in,
   * once however often it is sent, never below zero. True when this call lowered it.
   */
  async lowerSpend(accountId: string, refundId: string, spend: { day: number; week: number; amount: number }): Promise<boolean> {
    const lowered = await this.lowerSpendBy.run(
      this.redis.client,
      [this.keys.spend('payg', accountId), this.keys.spendLowered(accountId, refundId)],
      [spend.day, spend.week, spend.amount, MOVED_MARKER_TTL_SECONDS].map(String),
    );
    return lowered === 1;
  }

  /**
   * The accounts' rider categories over time, for their cards at the gates (`…:a:<id>:rider`): written after
   * the transaction that changed them commits, and by the rebuild; an adult for good leaves no key.
   */
  async setRiderCategories(accounts: readonly AccountRiderCategories[]): Promise<void> {
    await Promise.all(
      accounts.map(({ accountId, spans }) =>
        spans.every((span) => span.category === 'adult')
          ? this.redis.client.del(this.keys.riderCategories(accountId))
          : this.redis.client.set(this.keys.riderCategories(accountId), riderCategoriesValue(spans)),
      ),
    );
  }

  async setBlocked(accountId: string, blocked: boolean): Promise<void> {
    await this.redis.client.hSet(this.keys.wallet(accountId), STATUS, blocked ? 'blocked' : 'active');
  }

  async balance(accountId: string): Promise<number | null> {
    const value = await this.redis.client.hGet(this.keys.wallet(accountId), BALANCE);
    return value === null ? null : Number(value);
  }

  /**
   * A payment out of the wallet (`delta` < 0) taken from the gate balance before its transaction commits,
   * once, if it fits what the gates leave spendable: the balance less the maximum fare an open
   * pay-as-you-go journey may still charge. False when it does not fit (nothing changed). Atomic with
   * gate.lua, so an entry cannot pass on money the payment is spending. `applyMovement` after the commit
   * then finds it applied; `releaseMovement` gives it back if the transaction rolled back.
   */
  async spendMovement(accountId: string, movementId: string, delta: number): Promise<boolean> {
    const keys = [this.keys.wallet(accountId), this.keys.moved(accountId, movementId), this.keys.trip('payg', accountId)];
    return (await this.spendBalance.run(this.redis.client, keys, [String(delta), String(MOVED_MARKER_TTL_SECONDS)])) === 1;
  }

  /** Gives back a movement `spendMovement` took, once, after its transaction rolled back. True when it gave it back now. */
  async releaseMovement(accountId: string, movementId: string, delta: number): Promise<boolean> {
    return (await this.releaseBalance.run(this.redis.client, [this.keys.wallet(accountId), this.keys.moved(accountId, movementId)], [String(delta)])) === 1;
  }

  /**
   * Writes accounts as Postgres has them (rebuild), pipelined: the block always; the balance
   * and the spend only where Redis has none — live ones may hold charges still on their way to Postgres.
   */
  async restore(accounts: readonly RestoredAccount[]): Promise<void> {
    if (accounts.length === 0) return;
    // Pipelined, not one MULTI: on a cluster the accounts' keys lie in many slots.
    await Promise.all(
      accounts.flatMap(({ accountId, balance, blocked }) => [
        this.redis.client.hSetNX(this.keys.wallet(accountId), BALANCE, String(balance)),
        this.redis.client.hSet(this.keys.wallet(accountId), STATUS, blocked ? 'blocked' : 'active'),
      ]),
    );
    await this.setRiderCategories(accounts.map(({ accountId, categories }) => ({ accountId, spans: categories })));
    const spenders = accounts.filter(({ spend }) => spend.weekSpent > 0 || spend.weekModes !== 0);
    await Promise.all(
      spenders.map(({ accountId, spend }) =>
        this.restoreSpend.run(this.redis.client, [this.keys.spend('payg', accountId)], [spend.day, spend.daySpent, spend.dayModes, spend.week, spend.weekSpent, spend.weekModes].map(String)),
      ),
    );
  }
}
