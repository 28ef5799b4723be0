import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { TapPersister } from './tap-persister';

const WORKER_SCRIPT = join(__dirname, 'tap-persister.worker.js');
const RESTART_DELAY_MS = 1_000;
const STOP_TIMEOUT_MS = 15_000;

/**
 * Runs the tap persister when GATE_PERSISTER_ENABLED. With GATE_PERSISTER_THREAD (the default) it
 * runs in a worker thread of its own, so its batches (parsing the stream, building and committing
 * the transaction) never hold up a tap waiting on the main event loop; the worker dies with the
 * process, like the loop would. Run from TypeScript sources (the tests), where a worker cannot load
 * its script, it runs on this thread.
 */
@Injectable()
export class TapPersisterRunner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TapPersisterRunner.name);
  private worker: Worker | undefined;
  private stopping = false;

  constructor(
    private readonly persister: TapPersister,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.gate.persisterEnabled) return;
    if (this.config.gate.persisterThread && existsSync(WORKER_SCRIPT)) {
      await this.startWorker();
      this.logger.log('writing taps to Postgres from a worker thread');
    } else {
      await this.persister.start();
      this.logger.log('writing taps to Postgres from the main thread');
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage('stop');
    const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Resolves once the worker's persister runs; a worker that dies later is started again. */
  private startWorker(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_SCRIPT, { workerData: { config: this.config } });
      this.worker = worker;
      let ready = false;
      worker.once('message', () => {
        ready = true;
        resolve();
      });
      worker.on('error', (error) => this.logger.error({ err: error }, 'the tap persister thread failed'));
      worker.once('exit', (code) => {
        this.worker = undefined;
        if (!ready) return reject(new Error(`the tap persister thread exited with ${code} before it started`));
        if (this.stopping) return;
        this.logger.error(`the tap persister thread exited with ${code}; starting it again in ${RESTART_DELAY_MS} ms`);
        setTimeout(() => void this.startWorker().catch((error: unknown) => this.logger.error({ err: error }, 'the tap persister thread did not start')), RESTART_DELAY_MS);
      });
    });
  }
}
