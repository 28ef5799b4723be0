import { Global, Module } from '@nestjs/common';
import { RedisRetries } from './redis-retries';
import { RedisService } from './redis.service';

@Global()
@Module({ providers: [RedisService, RedisRetries], exports: [RedisService, RedisRetries] })
export class RedisModule {}
