import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { loadConfig } from '../config/config';
import { GateStateBuilder, type RebuildProgress } from '../validation/gate-state-builder';
import { runCommand } from './run-command';

const showProgress: RebuildProgress = (step, done, total) => {
  const line = total === null ? `${step}: rebuilding…` : `${step}: ${done} of ${total} (${total === 0 ? 100 : Math.floor((done / total) * 100)} %)`;
  // On a terminal the line is rewritten in place; in a log, each step ends on its own line.
  if (process.stdout.isTTY) process.stdout.write(`\r\x1b[2K${line}${done === total ? '\n' : ''}`);
  else if (done === total) process.stdout.write(`${line}\n`);
};

/**
 * `npm run rebuild-gate-state`: rewrites the gates' state in Redis from Postgres, the record —
 * tickets, then pay-as-you-go accounts (balance where Redis has none, and block), with progress on
 * the terminal. `-- --open-journeys` also restores open journeys: only after Redis lost its data.
 */
runCommand(async () => {
  // This process only rebuilds: it neither rebuilds at start nor writes taps.
  const config = loadConfig({ ...process.env, GATE_REBUILD_ON_EMPTY_REDIS: 'false', GATE_PERSISTER_ENABLED: 'false' });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'], abortOnError: false });
  try {
    const { tickets, accounts, media, bankCards, journeys } = await app.get(GateStateBuilder).rebuild(showProgress, process.argv.includes('--open-journeys'));
    process.stdout.write(`Rebuilt the gate state of ${tickets} tickets, ${accounts} accounts, ${media} media, ${bankCards} bank cards and ${journeys} open journeys\n`);
  } finally {
    await app.close();
  }
});
