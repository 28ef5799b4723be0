/**
 * Errors the domain raises. Services throw these without any HTTP in them; the global
 * exception filter maps the kind to a status and keeps the code as the contract's stable code.
 */
export type DomainErrorKind =
  | 'invalid' // 400: malformed input
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'method_not_allowed' // 405
  | 'conflict' // 409: state conflict
  | 'refused' // 422: well-formed but refused
  | 'rate_limited' // 429
  | 'unavailable'; // 503

export interface ErrorDetail {
  field: string;
  problem: string;
}

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super('not_found', 'NOT_FOUND', `${what} ${JSON.stringify(id)} does not exist`);
  }
}

/** 429: the caller may try again after the given number of seconds (sent as Retry-After). */
export class RateLimitedError extends DomainError {
  constructor(
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super('rate_limited', 'RATE_LIMITED', message);
  }
}

/** 400: a body that is not JSON (or not UTF-8), from any route's JSON parsing (src/common/json-body.ts). */
export class MalformedJsonError extends DomainError {
  constructor(message = 'The body is not valid JSON') {
    super('invalid', 'MALFORMED_JSON', message);
  }
}

/** 400: JSON nested deeper than JSON_MAX_DEPTH, refused before it is parsed. */
export class JsonTooDeepError extends DomainError {
  constructor(maxDepth: number) {
    super('invalid', 'JSON_TOO_DEEP', `The body nests arrays and objects more than ${maxDepth} levels deep`);
  }
}

/** 400: valid JSON holding a key that could poison prototypes (`__proto__`, or `constructor` with `prototype`). */
export class RefusedKeyError extends DomainError {
  constructor() {
    super('invalid', 'REFUSED_KEY', 'The body holds a refused key: __proto__, or constructor.prototype, is never accepted');
  }
}
