import type { Logger } from '@nestjs/common';

/**
 * Runs `work` every `seconds` (0: never), one run at a time: a tick that finds the last run still
 * going is skipped. A failed run is logged and the next tick tries again. `stop` waits for a run in flight.
 */
export class PeriodicJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly failure: string,
    private readonly work: () => Promise<unknown>,
  ) {}

  start(seconds: number): void {
    if (seconds === 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.work()
        .catch((error: unknown) => this.logger.warn({ err: error }, this.failure))
        .finally(() => (this.running = undefined));
    }, seconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
