import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimitedError } from './domain-error';
import { toErrorResponse } from './error-response';

/** Every error thrown in a Nest handler leaves in the contract's shape; 500s are logged, never leaked. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const response = toErrorResponse(error, request.id);
    if (response.internal) {
      this.logger.error({ err: error, reqId: request.id, method: request.method, url: request.url }, 'unhandled error');
    } else if (response.status === 503) {
      // Every request says so while Postgres or Redis is away; readiness and the 503 count in metrics tell operators.
      this.logger.debug({ err: error, reqId: request.id, method: request.method, url: request.url }, 'a dependency is unavailable');
    }
    if (error instanceof RateLimitedError) void reply.header('retry-after', String(error.retryAfterSeconds));
    // A route may have set another content type (@Header('content-type', 'text/csv')) before it failed.
    void reply.header('content-type', 'application/json; charset=utf-8');
    void reply.status(response.status).send(response.body);
  }
}
