import * as redis from 'redis';

/** What node-redis throws when Redis cannot be reached, dropped the connection or did not answer in time. */
const UNAVAILABLE = [redis.ClientClosedError, redis.ClientOfflineError, redis.ConnectionTimeoutError, redis.DisconnectsClientError,
  redis.ReconnectStrategyError, redis.RootNodesUnavailableError, redis.SocketClosedUnexpectedlyError, redis.SocketTimeoutError, redis.TimeoutError];

/**
 * Redis' own refusals while it cannot serve the key now: a cluster without all its slots (a master
 * stopped, just restarted), a node loading its data, a slot moving, a replica without its master.
 */
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|LOADING|TRYAGAIN|MASTERDOWN) /;

/** Redis is unavailable: nothing the request asked for is wrong, and it may be retried. */
export function isRedisUnavailable(error: unknown): boolean {
  return UNAVAILABLE.some((kind) => error instanceof kind) || (error instanceof redis.ErrorReply && UNAVAILABLE_REPLY.test(error.message));
}
