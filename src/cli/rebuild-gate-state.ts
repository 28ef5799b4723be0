import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { loadConfig } from '../config/config';
import { TicketsService } from '../tickets/tickets.service';
import { runCommand } from './run-command';

/** `npm run rebuild-gate-state`: rewrites the gates' ticket state in Redis from Postgres, the record. */
runCommand(async () => {
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(loadConfig()), { logger: ['error', 'warn'], abortOnError: false });
  try {
    const written = await app.get(TicketsService).rebuildGateState();
    process.stdout.write(`Rebuilt the gate state of ${written} tickets\n`);
  } finally {
    await app.close();
  }
});
