import { applyDecorators, createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import { ApiHeader, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import stableStringify from 'fast-json-stable-stringify';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { DomainError } from '../common/domain-error';

/** A money-moving request: the client's key and a fingerprint of what was asked (method, path, body). */
export interface IdempotentRequest {
  key: string;
  fingerprint: Buffer;
}

export interface IdempotentOutcome<T> {
  response: T;
  /** True when this is a retry answered with the stored response: nothing was done. */
  replayed: boolean;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

/** The request's Idempotency-Key header with the request's fingerprint; 400 when missing or malformed. */
export const IdempotencyKey = createParamDecorator((_: unknown, context: ExecutionContext): IdempotentRequest => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  const key = request.headers['idempotency-key'];
  if (key === undefined) {
    throw new DomainError('invalid', 'IDEMPOTENCY_KEY_REQUIRED', 'Send an Idempotency-Key header: this request moves money');
  }
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new DomainError('invalid', 'IDEMPOTENCY_KEY_INVALID', 'The Idempotency-Key must be 1 to 255 visible ASCII characters', [
      { field: 'Idempotency-Key', problem: 'must be 1 to 255 visible ASCII characters' },
    ]);
  }
  const path = request.url.split('?', 1)[0];
  const fingerprint = createHash('sha256').update(`${request.method} ${path}\n${stableStringify(request.body ?? null)}`).digest();
  return { key, fingerprint };
});

/** OpenAPI for a route taking @IdempotencyKey(). */
export const ApiIdempotencyKey = () =>
  applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: true,
      description: 'A unique key per intended operation. A retry with the same key and body returns the first response and does nothing again.',
    }),
    ApiUnprocessableEntityResponse({ description: 'IDEMPOTENCY_KEY_REUSED: the key was used for another request' }),
  );

/**
 * Runs a money-moving use case at most once per caller and key.
 *
 * The key row is inserted first, inside the use case's own transaction, and its response written
 * before that transaction commits: the effect and the stored response commit together or not at
 * all. A concurrent retry's insert waits on the first one's uncommitted row; when the first
 * commits, the retry reads and replays its response; when it rolls back (a refusal such as
 * INSUFFICIENT_BALANCE writes nothing, the key included), the retry runs the use case itself.
 */
@Injectable()
export class IdempotencyStore {
  async once<T>(em: EntityManager, accountId: string, request: IdempotentRequest, work: () => Promise<T>): Promise<IdempotentOutcome<T>> {
    const claimed = await em.query<unknown[]>(
      `INSERT INTO idempotency_keys (account_id, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING key`,
      [accountId, request.key, request.fingerprint],
    );
    if (claimed.length === 0) {
      const [stored] = await em.query<Array<{ request_hash: Buffer; response_body: T }>>(
        `SELECT request_hash, response_body FROM idempotency_keys WHERE account_id = $1 AND key = $2`,
        [accountId, request.key],
      );
      if (!stored.request_hash.equals(request.fingerprint)) {
        throw new DomainError('refused', 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for a different request');
      }
      return { response: stored.response_body, replayed: true };
    }
    const response = await work();
    await em.query(`UPDATE idempotency_keys SET response_body = $3 WHERE account_id = $1 AND key = $2`, [accountId, request.key, JSON.stringify(response)]);
    return { response, replayed: false };
  }
}
