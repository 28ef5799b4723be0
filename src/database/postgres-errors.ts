import { QueryFailedError } from 'typeorm';

/** A unique constraint refused the row (SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string }).code === '23505';
}

/** Connection exceptions (SQLSTATE class 08), and the server shutting down or still starting (57P01–57P03). */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123])$/;
/** Node's socket errors when the server cannot be reached or the connection breaks (Redis's connection says the same). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Postgres cannot be reached or dropped the connection (stopped, restarting, failing over): nothing
 * the request asked for is wrong, and it may be retried (with its Idempotency-Key where it moves money).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Read by shape, not `instanceof Error`: a socket's error comes from Node's own realm (not a test's).
  if (typeof error !== 'object' || error === null) return false;
  const cause = (error instanceof QueryFailedError && typeof error.driverError === 'object' && error.driverError !== null ? error.driverError : error) as { code?: unknown; message?: unknown };
  if (typeof cause.code === 'string' && (UNAVAILABLE_SQLSTATE.test(cause.code) || UNREACHABLE.has(cause.code))) return true;
  // node-postgres, when the server closes the socket under a query or a connection attempt.
  return typeof cause.message === 'string' && cause.message.startsWith('Connection terminated');
}
