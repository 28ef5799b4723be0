import { DynamicModule, Module } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LoggerModule } from 'nestjs-pino';
import pino, { type Logger as Pino } from 'pino';
import type { AppConfig } from '../config/config';

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-signature"]',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  // A failed query carries its bound values, which may be a password hash or a token hash.
  'err.parameters',
];

/** The process's pino logger: Nest's logger writes through it, and so does the request log. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** Routes whose requests are not logged: probes, scrapes, and the gate path (thousands a second, each recorded in Postgres). */
const QUIET_ROUTES = new Set(['GET /health/live', 'GET /health/ready', 'GET /metrics', 'POST /v1/validations']);

/**
 * Structured JSON logs. One line per request (see logRequest), carrying its id; error lines written
 * while serving a request carry it too (the exception filter adds it). There is deliberately no
 * per-request middleware binding a logger to the request through AsyncLocalStorage: on Node 20 its
 * async hooks, with the middleware layer, cost the gate path about 45 µs of CPU a tap, a fifth of it.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig): DynamicModule {
    const logger = pino({ level: config.logLevel, base: { service: 'lien-thong', pid: process.pid }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
    return {
      module: LoggingModule,
      global: true,
      imports: [LoggerModule.forRoot({ pinoHttp: { logger }, forRoutes: [] })],
      providers: [{ provide: ROOT_LOGGER, useValue: logger }],
      exports: [ROOT_LOGGER],
    };
  }
}

/** The request's line, once answered: its id, method, URL, status and time (5xx at error level). */
export function logRequest(logger: Pino, request: FastifyRequest, reply: FastifyReply): void {
  if (QUIET_ROUTES.has(`${request.method} ${request.routeOptions.url}`)) return;
  const line = { req: { id: request.id, method: request.method, url: redactedUrl(request.url) }, res: { statusCode: reply.statusCode }, responseTime: Math.round(reply.elapsedTime) };
  if (reply.statusCode >= 500) logger.error(line, 'request completed');
  else logger.info(line, 'request completed');
}

/** Query parameter names that look like they carry a secret (`access_token`, `apiKey`, `password`, `sig`…). */
const SECRET_PARAMETER = /token|secret|passw|pwd|key|sig|auth|session|credential|code|otp|jwt|bearer/i;

/** The URL as logged: the value of every query parameter whose name looks secret is replaced by [redacted]. */
export function redactedUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const query = url
    .slice(start + 1)
    .split('&')
    .map((pair) => {
      const end = pair.indexOf('=');
      const rawName = end < 0 ? pair : pair.slice(0, end);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // a malformed escape: judged by its raw spelling
      }
      return end >= 0 && SECRET_PARAMETER.test(name) ? `${rawName}=[redacted]` : pair;
    });
  return `${url.slice(0, start)}?${query.join('&')}`;
}
