import * as redis from 'redis';

/** What node-redis throws when Redis cannot be reached, dropped the connection or did not answer in time. */
const UNAVAILABLE = [redis.ClientClosedError, redis.ClientOfflineError, redis.ConnectionTimeoutError, redis.DisconnectsClientError,
  redis.ReconnectStrategyError, redis.SocketClosedUnexpectedlyError, redis.SocketTimeoutError, redis.TimeoutError];

/** Redis is unavailable: nothing the request asked for is wrong, and it may be retried. */
export function isRedisUnavailable(error: unknown): boolean {
  return UNAVAILABLE.some((kind) => error instanceof kind);
}
