import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger as Pino } from 'pino';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { DomainError, MalformedJsonError } from './common/domain-error';
import { serveConsole } from './console/serve-console';
import { toErrorResponse } from './common/error-response';
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

/** Builds the whole service, ready to listen. The service and the e2e tests both start here. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    genReqId: requestIdFor,
    logger: false,
    // A request id must never be taken from another header than ours.
    requestIdHeader: false,
    trustProxy: config.trustProxy,
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
  // Fastify's own JSON parser (prototype-poisoning safe), with its failures in the contract's terms:
  // Nest would otherwise turn them into a bare 400 without our code.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // Kept as received: payment webhooks are signed over the exact bytes (see RawBodyRequest).
    (request as RawBodyRequest).rawBody = body as string;
    void parseJson(request, body as string, (error: Error | null, value?: unknown) =>
      error ? done(new MalformedJsonError(), undefined) : done(null, value),
    );
  });
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
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
