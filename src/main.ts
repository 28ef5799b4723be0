import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/config';
import { createApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  app.enableShutdownHooks();
  await app.listen({ port: config.port, host: config.host });
}

main().catch((error: unknown) => {
  // A bad configuration is the operator's to fix: say which variable, without a stack trace.
  process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `Failed to start: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
