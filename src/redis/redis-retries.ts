import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';

/** Retries of a write Redis did not take: after 1 s, doubling up to 30 s. */
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/**
 * Writes to Redis that follow a Postgres commit and must not be lost when Redis is down for longer
 * than a command waits (node-redis gives up after 5 s; a restart can take longer): tried at once, then
 * again in the background until Redis takes them. Each write must be safe to repeat (a reply can be
 * lost after Redis applied it).
 */
@Injectable()
export class RedisRetries implements OnModuleDestroy {
  private readonly logger = new Logger(RedisRetries.name);
  private readonly waiting = new Map<NodeJS.Timeout, string>();
  private closing = false;

  /** Resolves after the first attempt; a failed write is retried later, never thrown. */
  async write(what: string, write: () => Promise<unknown>, attempt = 0): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (this.closing) return this.lost(what);
      const delayMs = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
      this.logger.warn({ err: error }, `Redis did not take ${what}; retrying in ${delayMs} ms`);
      const timer = setTimeout(() => {
        this.waiting.delete(timer);
        void this.write(what, write, attempt + 1);
      }, delayMs);
      timer.unref();
      this.waiting.set(timer, what);
    }
  }

  onModuleDestroy(): void {
    this.closing = true;
    for (const [timer, what] of this.waiting) {
      clearTimeout(timer);
      this.lost(what);
    }
    this.waiting.clear();
  }

  private lost(what: string): void {
    this.logger.error(`shutting down before Redis took ${what}; rebuild the gate state`);
  }
}
