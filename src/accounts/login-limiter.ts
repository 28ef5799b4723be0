import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../common/domain-error';
import type { AppConfig, AuthConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { RedisService } from '../redis/redis.service';

/** How long an address that logged in to an account stays known to it. */
const KNOWN_ADDRESS_DAYS = 90;
/** The first failed attempt of a pair waits this long before its answer, each further one twice as long (up to the maximum). */
const FIRST_DELAY_MS = 50;

/**
 * Login attempts, counted in Redis so that every copy of the service shares them. Guessing is limited
 * without handing strangers a way to lock an account:
 *
 * - per account and address pair (LOGIN_ATTEMPTS_PER_PAIR): the pair that guesses gets 429; the
 *   account's owner elsewhere is not touched. Each failure of a pair also delays the pair's next
 *   answers, twice as long each time up to LOGIN_SLOWDOWN_MAX_MS;
 * - per account (LOGIN_ATTEMPTS_PER_ACCOUNT, a higher ceiling against guessing from many addresses):
 *   past it, addresses that never logged in to the account get 429, while an address that did (it
 *   is remembered for 90 days in a Redis set per account, hashed) is only slowed down, never blocked;
 * - per address (LOGIN_ATTEMPTS_PER_ADDRESS): one address trying many accounts gets 429.
 *
 * Each attempt spends its points before the password is checked (no race lets extra guesses
 * through); a successful login clears its pair and the account's count, and gives the address its
 * point back. Unknown and
 * known emails are counted alike, so the limits reveal nothing about which exist.
 */
@Injectable()
export class LoginLimiter {
  private readonly perPair: RateLimiterRedis;
  private readonly perAccount: RateLimiterRedis;
  private readonly perAddress: RateLimiterRedis;
  private readonly auth: AuthConfig;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly redis: RedisService,
  ) {
    this.auth = config.auth;
    const { loginAttemptsPerPair, loginAttemptsPerAccount, loginAttemptsPerAddress, loginWindowSeconds } = config.auth;
    const common = { storeClient: redis.client, useRedisPackage: true, duration: loginWindowSeconds };
    this.perPair = new RateLimiterRedis({ ...common, keyPrefix: 'login:pair', points: loginAttemptsPerPair, blockDuration: loginWindowSeconds });
    // Not blocked for a window once over: a known-good address keeps being let through.
    this.perAccount = new RateLimiterRedis({ ...common, keyPrefix: 'login:account', points: loginAttemptsPerAccount });
    this.perAddress = new RateLimiterRedis({ ...common, keyPrefix: 'login:address', points: loginAttemptsPerAddress, blockDuration: loginWindowSeconds });
  }

  /**
   * Spends one attempt of the pair, the account and the address, and waits out the pair's delay:
   * 429 RATE_LIMITED with Retry-After when the pair or the address has none left, or the account
   * none and the address is not known to it.
   */
  async attempt(email: string, address: string): Promise<void> {
    const account = digest(email);
    const [pair, ceiling, byAddress] = await Promise.all([
      spend(this.perPair, `${account}:${digest(address)}`),
      spend(this.perAccount, account),
      spend(this.perAddress, address),
    ]);
    let retryMs = Math.max(pair.retryMs ?? 0, byAddress.retryMs ?? 0);
    let delayMs = pair.failures === 0 ? 0 : Math.min(this.auth.loginSlowdownMaxMs, FIRST_DELAY_MS * 2 ** (pair.failures - 1));
    if (ceiling.retryMs !== undefined) {
      if (await this.isKnown(account, address)) delayMs = this.auth.loginSlowdownMaxMs;
      else retryMs = Math.max(retryMs, ceiling.retryMs);
    }
    if (retryMs > 0) throw new RateLimitedError(Math.max(1, Math.ceil(retryMs / 1000)), 'Too many login attempts; try again later');
    if (delayMs > 0) await sleep(delayMs);
  }

  /** The right password: the pair and the account start afresh, the address gets its point back and is known to the account from now on. */
  async succeeded(email: string, address: string): Promise<void> {
    const account = digest(email);
    const known = knownKey(account);
    await Promise.all([
      this.perPair.delete(`${account}:${digest(address)}`),
      this.perAccount.delete(account),
      this.perAddress.reward(address, 1),
      this.redis.client.multi().sAdd(known, digest(address)).expire(known, KNOWN_ADDRESS_DAYS * 24 * 3600).exec(),
    ]);
  }

  private async isKnown(account: string, address: string): Promise<boolean> {
    return (await this.redis.client.sIsMember(knownKey(account), digest(address))) === 1;
  }
}

/** One point of a limiter: how many points were spent before it, and how long to wait when none was left. */
async function spend(limiter: RateLimiterRedis, key: string): Promise<{ failures: number; retryMs?: number }> {
  try {
    const result = await limiter.consume(key);
    return { failures: result.consumedPoints - 1 };
  } catch (error) {
    if (!(error instanceof RateLimiterRes)) throw error;
    return { failures: error.consumedPoints - 1, retryMs: Math.max(1, error.msBeforeNext) };
  }
}

function knownKey(account: string): string {
  return `login:known:${account}`;
}

/** Emails and addresses stay out of Redis keys. */
function digest(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}
