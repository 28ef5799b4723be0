import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
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

const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

/** Structured JSON logs; every line written while serving a request carries its id. */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          // The gate path answers thousands of taps a second and records each in Postgres: no per-request logger there.
          exclude: [{ method: RequestMethod.POST, path: 'v1/validations' }],
          pinoHttp: {
            level: config.logLevel,
            base: { service: 'lien-thong' },
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            // Fastify picks the id (see requestIdFor); pino-http reuses it from req.id.
            autoLogging: { ignore: (req) => QUIET_ROUTES.has((req.url ?? '').split('?')[0] ?? '') },
            serializers: {
              req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
          },
        }),
      ],
    };
  }
}
