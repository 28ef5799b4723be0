import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../common/domain-error';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { RedisService } from '../redis/redis.service';

/**
 * Login attempts per account and per address, counted in Redis so every copy of the service shares
 * them. Each attempt spends a point before the password is checked (no race lets extra guesses
 * through); a successful login clears the account's count and gives the address its point back.
 * Unknown and known emails are counted alike, so the limit reveals nothing about which exist.
 */
@Injectable()
export class LoginLimiter {
  private readonly perAccount: RateLimiterRedis;
  private readonly perAddress: RateLimiterRedis;

  constructor(@Inject(APP_CONFIG) config: AppConfig, redis: RedisService) {
    const { loginAttemptsPerAccount, loginAttemptsPerAddress, loginWindowSeconds } = config.auth;
    const common = { storeClient: redis.client, useRedisPackage: true, duration: loginWindowSeconds, blockDuration: loginWindowSeconds };
    this.perAccount = new RateLimiterRedis({ ...common, keyPrefix: 'login:account', points: loginAttemptsPerAccount });
    this.perAddress = new RateLimiterRedis({ ...common, keyPrefix: 'login:address', points: loginAttemptsPerAddress });
  }

  /** Spends one attempt for the account and the address; 429 RATE_LIMITED with Retry-After when either has none left. */
  async attempt(email: string, address: string): Promise<void> {
    const results = await Promise.allSettled([this.perAccount.consume(accountKey(email)), this.perAddress.consume(address)]);
    let waitMs: number | undefined;
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      if (!(result.reason instanceof RateLimiterRes)) throw result.reason;
      waitMs = Math.max(waitMs ?? 0, result.reason.msBeforeNext);
    }
    if (waitMs !== undefined) throw new RateLimitedError(Math.max(1, Math.ceil(waitMs / 1000)), 'Too many login attempts; try again later');
  }

  async succeeded(email: string, address: string): Promise<void> {
    await Promise.all([this.perAccount.delete(accountKey(email)), this.perAddress.reward(address, 1)]);
  }
}

/** Emails stay out of Redis keys. */
function accountKey(email: string): string {
  return createHash('sha256').update(email, 'utf8').digest('base64url');
}
