import 'reflect-metadata';
import cluster from 'node:cluster';
import { pino } from 'pino';
import { ConfigError, loadConfig, type AppConfig } from './config/config';
import { closeGracefully, createApp } from './app';
import { superviseWorkers } from './workers';

/** One copy of the service in this process; SIGTERM or SIGINT (one or several) shut it down gracefully, once. */
async function serve(config: AppConfig): Promise<void> {
  const app = await createApp(config);
  let closing: Promise<void> | undefined;
  const shutDown = () => (closing ??= closeGracefully(app).then(() => process.exit(0)));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void shutDown());
  await app.listen({ port: config.port, host: config.host });
}

/** WORKERS above 1: this process supervises that many workers (src/workers.ts), each running serve(). */
function supervise(config: AppConfig): void {
  const logger = pino({ level: config.logLevel, base: { pid: process.pid, name: 'workers' } });
  const say = (line: string) => logger.info(line);
  say(`starting ${config.copies.workers} workers on port ${config.port}`);
  const supervisor = superviseWorkers({ count: config.copies.workers, say });
  let stopping: Promise<void> | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void (stopping ??= supervisor.stop().then(() => process.exit(0))));
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (cluster.isPrimary && config.copies.workers > 1) supervise(config);
  else await serve(config);
}

main().catch((error: unknown) => {
  // A bad configuration is the operator's to fix: say which variable, without a stack trace.
  process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `Failed to start: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
