import { HttpException, HttpStatus } from '@nestjs/common';
import { isDatabaseUnavailable } from '../database/postgres-errors';
import { isRedisUnavailable } from '../redis/redis-errors';
import { DomainError, DomainErrorKind, ErrorDetail } from './domain-error';

/** The contract's single error shape. */
export interface ErrorBody {
  error: { code: string; message: string; details: ErrorDetail[] };
  requestId: string;
}

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  /** True when the cause is ours (500) and deserves a log line with the stack; a 503 is a dependency's. */
  internal: boolean;
}

const STATUS_BY_KIND: Record<DomainErrorKind, number> = {
  invalid: HttpStatus.BAD_REQUEST,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  method_not_allowed: HttpStatus.METHOD_NOT_ALLOWED,
  conflict: HttpStatus.CONFLICT,
  refused: HttpStatus.UNPROCESSABLE_ENTITY,
  rate_limited: HttpStatus.TOO_MANY_REQUESTS,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

/** Stable codes for errors raised by the framework rather than by our services. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** Turns anything thrown while serving a request into the contract's error response. */
export function toErrorResponse(error: unknown, requestId: string): ErrorResponse {
  const respond = (status: number, code: string, message: string, details: ErrorDetail[] = []): ErrorResponse => ({
    status,
    body: { error: { code, message, details }, requestId },
    internal: status === 500,
  });

  if (error instanceof DomainError) {
    return respond(STATUS_BY_KIND[error.kind], error.code, error.message, error.details);
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status >= 500) return internalError(requestId);
    return respond(status, CODE_BY_STATUS[status] ?? `HTTP_${status}`, httpExceptionMessage(error));
  }
  // Retryable, unlike a 500: clients retry (money-moving requests with the same Idempotency-Key).
  if (isDatabaseUnavailable(error) || isRedisUnavailable(error)) {
    return respond(HttpStatus.SERVICE_UNAVAILABLE, 'SERVICE_UNAVAILABLE', 'A server the service depends on cannot be reached just now; retry shortly.');
  }
  return internalError(requestId);
}

function internalError(requestId: string): ErrorResponse {
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    body: {
      error: { code: 'INTERNAL_ERROR', message: 'Something went wrong on our side; quote the request id when reporting it.', details: [] },
      requestId,
    },
    internal: true,
  };
}

function httpExceptionMessage(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join('; ');
  return error.message;
}
