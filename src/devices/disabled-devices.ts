import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { RedisService, type RedisClient } from '../redis/redis.service';

const CHANNEL = 'devices:disabled';

/**
 * The disabled validator devices, held in memory so that checking a validator token costs a Set
 * lookup and no round trip (the gate path does no SQL). Loaded from Postgres at start; a disable
 * on any copy of the service is announced on a Redis channel, and each copy also reloads on a
 * timer in case it missed an announcement. Devices are never re-enabled, so the set only grows.
 */
@Injectable()
export class DisabledDevices implements OnModuleInit, OnModuleDestroy {
  private readonly disabled = new Set<string>();
  private subscriber?: RedisClient;
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
    this.subscriber = this.redis.client.duplicate();
    this.subscriber.on('error', () => undefined);
    await this.subscriber.connect();
    await this.subscriber.subscribe(CHANNEL, (deviceId) => this.disabled.add(deviceId));
    this.timer = setInterval(() => void this.reload().catch(() => undefined), this.config.auth.disabledDevicesRefreshSeconds * 1000);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    if (this.subscriber?.isOpen) await this.subscriber.close();
  }

  /** 401 DEVICE_DISABLED for a disabled device. */
  assertEnabled(deviceId: string): void {
    if (this.disabled.has(deviceId)) throw deviceDisabled();
  }

  /** Call after the device is marked disabled in Postgres: this copy stops it at once, the others on the announcement. */
  async disabledNow(deviceId: string): Promise<void> {
    this.disabled.add(deviceId);
    await this.redis.client.publish(CHANNEL, deviceId);
  }

  private async reload(): Promise<void> {
    const rows = await this.db.query<Array<{ id: string }>>('SELECT id FROM devices WHERE disabled_at IS NOT NULL');
    for (const { id } of rows) this.disabled.add(id);
  }
}

export function deviceDisabled(): DomainError {
  return new DomainError('unauthenticated', 'DEVICE_DISABLED', 'This device has been disabled');
}
