import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError, loadConfig } from './config/config';
import { createApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void shutDown(app));
  await app.listen({ port: config.port, host: config.host });
}

/**
 * HTTP first, then the modules. Nest's own shutdown hooks close the HTTP server last, after
 * Postgres and Redis, so requests in flight at the signal failed. Here the server stops taking
 * requests (new ones on open connections get 503) and answers those in flight (see createApp for
 * their connections); only then do the modules stop (the tap persister finishes its batch) and the
 * pools close.
 */
async function shutDown(app: NestFastifyApplication): Promise<void> {
  await app.getHttpAdapter().getInstance().close();
  await app.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  // A bad configuration is the operator's to fix: say which variable, without a stack trace.
  process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `Failed to start: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
