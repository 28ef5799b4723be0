import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createClient } from 'redis';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';

export type RedisClient = ReturnType<typeof createClient>;

/** The one Redis connection of the process; purpose-specific classes (gate state, tap stream) use it. */
@Injectable()
export class RedisService implements OnModuleInit, OnModuleDestroy {
  readonly client: RedisClient;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.client = createClient({
      url: config.redis.url,
      socket: { connectTimeout: 5_000, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2_000) },
    });
    // Errors also surface on the commands that fail; without a listener node-redis would crash the process.
    this.client.on('error', () => undefined);
  }

  async onModuleInit(): Promise<void> {
    await this.client.connect();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }

  /** PING with a deadline, for readiness checks. */
  async ping(timeoutMs: number): Promise<void> {
    await withTimeout(this.client.ping(), timeoutMs, 'Redis did not answer PING');
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
