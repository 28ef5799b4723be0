import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../common/domain-error';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { RedisService } from '../redis/redis.service';

/**
 * Registrations per address (REGISTRATIONS_PER_ADDRESS in REGISTRATION_WINDOW_SECONDS), counted in
 * Redis. Every well-formed attempt counts, a refused one (EMAIL_TAKEN) too, so the limit also slows
 * finding out which addresses have accounts.
 */
@Injectable()
export class RegistrationLimiter {
  private readonly perAddress: RateLimiterRedis;

  constructor(@Inject(APP_CONFIG) config: AppConfig, redis: RedisService) {
    const { registrationsPerAddress, registrationWindowSeconds } = config.auth;
    this.perAddress = new RateLimiterRedis({
      storeClient: redis.client,
      useRedisPackage: true,
      keyPrefix: 'register:address',
      points: registrationsPerAddress,
      duration: registrationWindowSeconds,
    });
  }

  /** Spends the address's attempt; 429 RATE_LIMITED with Retry-After when it has none left. */
  async attempt(address: string): Promise<void> {
    try {
      await this.perAddress.consume(address);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      throw new RateLimitedError(Math.max(1, Math.ceil(error.msBeforeNext / 1000)), 'Too many registrations from this address; try again later');
    }
  }
}
