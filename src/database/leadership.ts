import { Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { SingletonLease } from './singleton-lease';

/** A job scheduled with Leadership.every: stopping it waits for a round in progress. */
export interface LeaderJob {
  stop(): Promise<void>;
}

/**
 * Which copy of the service runs the work that must run once (the journey sweeper, payment expiry,
 * the completion of forgotten exits, tomorrow's partitions): the one holding the `singleton-jobs`
 * lease (SingletonLease), tried every LEADER_RETRY_SECONDS. Every copy schedules its jobs; each
 * round runs only where the lease is held, so when the leader dies the next one takes over within
 * a round or two.
 */
@Injectable()
export class Leadership implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(Leadership.name);
  private readonly lease: SingletonLease;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.lease = new SingletonLease({
      url: config.database.url,
      name: 'singleton-jobs',
      retryMs: config.copies.leaderRetrySeconds * 1000,
      onChange: (leading, error) => {
        if (leading) this.logger.log('this copy leads the singleton jobs');
        else if (error) this.logger.warn({ err: error }, 'this copy lost the singleton jobs\' lease with its connection');
        else this.logger.log('this copy gave the singleton jobs\' lease up');
      },
    });
  }

  /** The first try before any module's jobs start (their onApplicationBootstrap). */
  async onModuleInit(): Promise<void> {
    await this.lease.start();
  }

  /** After every module stopped its jobs: the lease passes on only once nothing of ours runs. */
  async onApplicationShutdown(): Promise<void> {
    await this.lease.stop();
  }

  get leading(): boolean {
    return this.lease.leading;
  }

  /**
   * Runs `job` every `everyMs` while this copy leads, one round at a time (a round still running
   * when the next is due skips it); a failed round is reported to `onError` and tried next time.
   */
  every(everyMs: number, job: () => Promise<unknown>, onError: (error: unknown) => void): LeaderJob {
    let running: Promise<unknown> | undefined;
    const timer = setInterval(() => {
      if (running || !this.leading) return;
      running = job()
        .catch(onError)
        .finally(() => (running = undefined));
    }, everyMs);
    timer.unref();
    return {
      stop: async () => {
        clearInterval(timer);
        await running;
      },
    };
  }
}

/** Leadership for the whole service (not for the tap persister's thread, which leads nothing). */
@Global()
@Module({ providers: [Leadership], exports: [Leadership] })
export class LeadershipModule {}
