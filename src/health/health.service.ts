import { Injectable } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { RedisService, withTimeout } from '../redis/redis.service';

const CHECK_TIMEOUT_MS = 2_000;

export class HealthStatusDto {
  @ApiProperty({ example: 'ok' }) status!: 'ok';
  @ApiProperty({ example: { postgres: 'up', redis: 'up' }, type: 'object', additionalProperties: { type: 'string' } })
  checks!: Record<string, 'up'>;
}

@Injectable()
export class HealthService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly redis: RedisService,
  ) {}

  /** Really asks Postgres and Redis; a 503 names each dependency that failed. */
  async checkReady(): Promise<HealthStatusDto> {
    const [postgres, redis] = await Promise.allSettled([
      withTimeout(this.dataSource.query('SELECT 1'), CHECK_TIMEOUT_MS, 'Postgres did not answer'),
      this.redis.ping(CHECK_TIMEOUT_MS),
    ]);
    const failures = [
      { field: 'postgres', result: postgres },
      { field: 'redis', result: redis },
    ].filter(({ result }) => result.status === 'rejected');
    if (failures.length > 0) {
      throw new DomainError(
        'unavailable',
        'SERVICE_UNAVAILABLE',
        'A dependency of the service does not answer',
        failures.map(({ field }) => ({ field, problem: 'down' })),
      );
    }
    return { status: 'ok', checks: { postgres: 'up', redis: 'up' } };
  }
}
