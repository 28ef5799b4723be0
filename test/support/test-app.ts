import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app';
import { AppConfig, loadConfig } from '../../src/config/config';
import { checkResponsesAgainstOpenApi } from './openapi-responses';

/**
 * The configuration of the throwaway servers the global setup started. Refuses to run against a
 * database whose name does not say "test": a stray DATABASE_URL must never be wiped by a test.
 */
export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test', ...overrides });
  const database = new URL(config.database.url).pathname.slice(1);
  if (!database.includes('test')) {
    throw new Error(`Refusing to run tests against database "${database}": its name must contain "test"`);
  }
  return config;
}

/** The whole service, as `main` builds it, ready for supertest; every answer is checked against openapi.json. */
export async function startTestApp(overrides: Record<string, string> = {}): Promise<NestFastifyApplication> {
  const app = await createApp(testConfig(overrides));
  checkResponsesAgainstOpenApi(app);
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
