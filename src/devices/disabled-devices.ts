import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { RedisService, type RedisClient } from '../redis/redis.service';

const CHANNEL = 'devices:disabled';
const KNOWN_CHANNEL = 'devices:known';
const KNOWN_HANDSETS_CHANNEL = 'devices:known-inspector';

/** What a device's token makes it: validators (gates, bus validators) tap; inspectors' handsets inspect. */
export type DeviceRole = 'validator' | 'inspector';

/**
 * The devices that exist, with the role their tokens carry, and the disabled ones, held in memory so
 * that checking a device token costs a Set and a Map lookup and no round trip (the gate path does no
 * SQL): a token signed with our key but naming no device, or a device of another kind, is refused. Loaded from Postgres at start; a new
 * device or token and a disable on any copy of the service are announced on Redis channels, and
 * each copy also reloads on a timer in case it missed an announcement. Devices are never deleted
 * nor re-enabled, so both sets only grow.
 */
@Injectable()
export class DisabledDevices implements OnModuleInit, OnModuleDestroy {
  private readonly disabled = new Set<string>();
  private readonly known = new Map<string, DeviceRole>();
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
    await this.subscriber.subscribe(KNOWN_CHANNEL, (deviceId) => this.known.set(deviceId, 'validator'));
    await this.subscriber.subscribe(KNOWN_HANDSETS_CHANNEL, (deviceId) => this.known.set(deviceId, 'inspector'));
    this.timer = setInterval(() => void this.reload().catch(() => undefined), this.config.auth.disabledDevicesRefreshSeconds * 1000);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    if (this.subscriber?.isOpen) await this.subscriber.close();
  }

  /** 401 DEVICE_DISABLED for a disabled device, TOKEN_INVALID for a device that does not exist or is not of that role. */
  assertEnabled(deviceId: string, role: DeviceRole): void {
    if (this.disabled.has(deviceId)) throw deviceDisabled();
    if (this.known.get(deviceId) !== role) throw unknownDevice();
  }

  /** Call once a device exists in Postgres (created, or given a token): every copy accepts its tokens. */
  async knownNow(deviceId: string, role: DeviceRole): Promise<void> {
    this.known.set(deviceId, role);
    await this.redis.client.publish(role === 'inspector' ? KNOWN_HANDSETS_CHANNEL : KNOWN_CHANNEL, deviceId);
  }

  /** Call after the device is marked disabled in Postgres: this copy stops it at once, the others on the announcement. */
  async disabledNow(deviceId: string): Promise<void> {
    this.disabled.add(deviceId);
    await this.redis.client.publish(CHANNEL, deviceId);
  }

  private async reload(): Promise<void> {
    const rows = await this.db.query<Array<{ id: string; kind: string; disabled: boolean }>>('SELECT id, kind, disabled_at IS NOT NULL AS disabled FROM devices');
    for (const { id, kind, disabled } of rows) {
      this.known.set(id, deviceRole(kind));
      if (disabled) this.disabled.add(id);
    }
  }
}

export function deviceRole(kind: string): DeviceRole {
  return kind === 'inspector' ? 'inspector' : 'validator';
}

function unknownDevice(): DomainError {
  return new DomainError('unauthenticated', 'TOKEN_INVALID', 'The access token is not valid');
}

export function deviceDisabled(): DomainError {
  return new DomainError('unauthenticated', 'DEVICE_DISABLED', 'This device has been disabled');
}
