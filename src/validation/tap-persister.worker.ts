import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { LoggingModule } from '../common/logging.module';
import type { AppConfig } from '../config/config';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { GateTapUndo } from '../gate-state/gate-tap-undo';
import { MediaGateState } from '../gate-state/media-gate-state';
import { MediumClones, MediumCounters } from '../media/media-records';
import { Ledger } from '../payments/ledger';
import { RedisModule } from '../redis/redis.module';
import { TicketFirstUses } from '../tickets/ticket-first-uses';
import { gateKeysProvider } from '../gate-state/gate-state.module';
import { FareCharger } from './fare-charger';
import { TapPartitions } from './tap-partitions';
import { TapPersister } from './tap-persister';
import { TapRecorder } from './tap-recorder';

/** The persister's thread (see TapPersisterRunner): only what writing taps needs, a small pool, no migrations (the service ran them). */
@Module({})
class TapPersisterThreadModule {
  static forRoot(config: AppConfig): DynamicModule {
    const own: AppConfig = { ...config, database: { ...config.database, poolSize: 2, migrateOnStart: false } };
    return {
      module: TapPersisterThreadModule,
      imports: [ConfigModule.forRoot(own), LoggingModule.forRoot(own), DatabaseModule, RedisModule],
      providers: [gateKeysProvider(), Ledger, FareCharger, GateTapUndo, TapPartitions, TapRecorder, TapPersister, MediaGateState, MediumClones, MediumCounters, TicketFirstUses],
    };
  }
}

/** Lowers this thread's priority only (Linux: setpriority on the thread's own id), not the process's. */
function niceThisThread(nice: number): string | null {
  if (nice === 0) return null;
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(threadId, nice);
    return null;
  } catch (error) {
    return `could not lower the persister thread's priority (GATE_PERSISTER_NICE): ${String(error)}`;
  }
}

async function main(): Promise<void> {
  const config = (workerData as { config: AppConfig }).config;
  const refused = niceThisThread(config.gate.persisterNice);
  const app = await NestFactory.createApplicationContext(TapPersisterThreadModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  if (refused) app.get(Logger).warn(refused);
  await app.get(TapPersister).start();
  parentPort!.once('message', () => void app.close());
  parentPort!.postMessage('ready');
}

void main();
