import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { DomainError } from '../common/domain-error';
import { DAY_MS, localDateAt } from '../fares/domain/local-time';
import { ACQUIRER, type Acquirer } from './acquirer';
import { CardCharges, type ChargeRunResult } from './card-charges';

/**
 * Runs the charge job every BANK_CARD_CHARGE_INTERVAL_SECONDS in each copy of the service (charges
 * are claimed under locks and every acquirer call is idempotent, so copies may overlap), and on
 * an admin's request. Each run also has the acquirer's settlement file of yesterday written.
 */
@Injectable()
export class CardChargeJob implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CardChargeJob.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ACQUIRER) private readonly acquirer: Acquirer,
    private readonly charges: CardCharges,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.bankCards.chargeIntervalSeconds;
    if (seconds === 0 || this.config.bankCards.acquirer === 'off') return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.run()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'the bank-card charge job failed; trying again later'))
        .finally(() => (this.running = undefined));
    }, seconds * 1000);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** The admin's trigger: 409 ACQUIRER_OFF without an acquirer. */
  runNow(): Promise<ChargeRunResult> {
    if (this.config.bankCards.acquirer === 'off') throw new DomainError('conflict', 'ACQUIRER_OFF', 'No card acquirer is configured (ACQUIRER=off)');
    return this.run();
  }

  private async run(now = Date.now()): Promise<ChargeRunResult> {
    const result = await this.charges.run(now);
    await this.acquirer.settlementFile(localDateAt(now - DAY_MS));
    return result;
  }
}
