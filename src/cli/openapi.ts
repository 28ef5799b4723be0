import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppModule } from '../app.module';
import { loadConfig } from '../config/config';
import { buildOpenApiDocument } from '../docs/openapi';
import { runCommand } from './run-command';

export const OPENAPI_FILE = join(__dirname, '..', '..', 'openapi.json');

/** The document as committed: generated without connecting to anything (Nest's preview mode). */
export async function generateOpenApiJson(): Promise<string> {
  const app = await NestFactory.create(AppModule.forRoot(loadConfig({ NODE_ENV: 'test' })), new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  runCommand(async () => {
    writeFileSync(OPENAPI_FILE, await generateOpenApiJson());
    process.stdout.write(`Wrote ${OPENAPI_FILE}\n`);
  });
}
