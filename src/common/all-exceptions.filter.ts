import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimitedError } from './domain-error';
import { toErrorResponse } from './error-response';

/** Every error thrown in a Nest handler leaves in the contract's shape; 5xx are logged, never leaked. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const response = toErrorResponse(error, request.id);
    if (response.internal) {
      this.logger.error({ err: error, method: request.method, url: request.url }, 'unhandled error');
    }
    if (error instanceof RateLimitedError) void reply.header('retry-after', String(error.retryAfterSeconds));
    // A route may have set another content type (@Header('content-type', 'text/csv')) before it failed.
    void reply.header('content-type', 'application/json; charset=utf-8');
    void reply.status(response.status).send(response.body);
  }
}
