import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger as Pino } from 'pino';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { DomainError } from './common/domain-error';
import { serveConsole } from './console/serve-console';
import { toErrorResponse } from './common/error-response';
import { installJsonBodyParser, utf8Text } from './common/json-body';
import { requestIdFor } from './common/request-id';
import { logRequest, ROOT_LOGGER } from './common/logging.module';
import type { AppConfig } from './config/config';
import { setUpDocs } from './docs/openapi';
import { MetricsService } from './metrics/metrics.service';
import type { RawBodyRequest } from './payments/raw-body';

function frameworkError(error: FastifyError): unknown {
  switch (error.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new DomainError('not_found', 'NOT_FOUND', 'No such resource');
    case 'FST_ERR_BAD_URL':
      return new DomainError('invalid', 'VALIDATION_FAILED', 'The URL is not valid', [{ field: 'url', problem: 'is not a valid URL' }]);
    default:
      return error;
  }
}

/**
 * A request Node's HTTP parser could not read (a malformed request line or header, headers too
 * large, a client too slow): answered on the socket, in the contract's shape with a request id,
 * before any Fastify request exists.
 */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const [code, message] =
    status === 408
      ? ['REQUEST_TIMEOUT', 'The request did not arrive in time']
      : status === 431
        ? ['HEADERS_TOO_LARGE', 'The request headers are too large']
        : ['BAD_REQUEST', 'The request is not valid HTTP'];
  const requestId = randomUUID();
  const body = JSON.stringify({ error: { code, message, details: [] }, requestId });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** Methods no route serves that say something of their own: TRACE echoes the request (headers included) back. */
const REFUSED_METHODS = new Set(['TRACE', 'TRACK', 'CONNECT']);

/** Builds the whole service, ready to listen. The service and the e2e tests both start here. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    genReqId: requestIdFor,
    logger: false,
    // A request id must never be taken from another header than ours.
    requestIdHeader: false,
    trustProxy: config.trustProxy,
    clientErrorHandler,
    // Fastify answers a few malformed URLs before any route runs: in the contract's shape too.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = toErrorResponse(frameworkError(error), request.id);
      void reply.status(status).header('x-request-id', request.id).send(body);
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: true,
    abortOnError: false,
    bodyParser: false, // we register the JSON parser below
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();

  const metrics = app.get(MetricsService);
  const fastify = app.getHttpAdapter().getInstance();
  // One JSON parser for every body reader (src/common/json-body.ts), its failures in the contract's
  // terms: Nest would otherwise turn them into a bare 400 without our code. Bytes, not text: a body
  // that is not UTF-8 is refused as such (Fastify's string decoding made it a Content-Length error).
  // JSON is the only media type: without Fastify's text/plain parser, any other is 415.
  const parseJson = installJsonBodyParser(fastify, config.jsonMaxDepth);
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8Text(body as Buffer);
    } catch (error) {
      return done(error as Error, undefined);
    }
    // Kept as received: payment webhooks are signed over the exact bytes (see RawBodyRequest).
    (request as RawBodyRequest).rawBody = text;
    parseJson(request, text, (error, value) => (error ? done(error, undefined) : done(null, value)));
  });
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (REFUSED_METHODS.has(request.method)) {
      const { status, body } = toErrorResponse(new DomainError('method_not_allowed', 'METHOD_NOT_ALLOWED', `${request.method} is not served`), request.id);
      return reply.status(status).send(body);
    }
  });
  // Once the server closes, answers still in flight end their kept-alive connection: close() then waits
  // for them only, not for their clients' keep-alive timeout.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
  const requestLog = app.get<Pino>(ROOT_LOGGER);
  fastify.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    logRequest(requestLog, request, reply);
  });

  if (config.docsEnabled) setUpDocs(app);
  await serveConsole(app);
  await app.init();
  return app;
}

/**
 * HTTP first, then the modules. Nest's own shutdown closes the HTTP server last, after Postgres and
 * Redis, so requests in flight at the signal failed. Here the server stops taking requests (new ones on
 * open connections get 503) and answers those in flight (see createApp for their connections); only
 * then do the modules stop (the tap persister finishes its batch) and the pools close.
 */
export async function closeGracefully(app: NestFastifyApplication): Promise<void> {
  await app.getHttpAdapter().getInstance().close();
  await app.close();
}
