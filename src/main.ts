import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/config';
import { closeGracefully, createApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void closeGracefully(app).then(() => process.exit(0)));
  await app.listen({ port: config.port, host: config.host });
}

main().catch((error: unknown) => {
  // A bad configuration is the operator's to fix: say which variable, without a stack trace.
  process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `Failed to start: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
