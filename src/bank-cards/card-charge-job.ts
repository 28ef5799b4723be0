import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import type { AuthUser } from '../common/auth-user';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { DomainError, NotFoundError } from '../common/domain-error';
import { Leadership, type LeaderJob } from '../database/leadership';
import { DAY_MS, localDateAt } from '../fares/domain/local-time';
import { ACQUIRER, type Acquirer } from './acquirer';
import { CardCharges, type ChargeRunResult } from './card-charges';

/**
 * Runs the charge job every BANK_CARD_CHARGE_INTERVAL_SECONDS in the copy holding the singleton
 * jobs' lease (src/database/leadership.ts; charges are claimed under locks and every acquirer call
 * is idempotent, so an overlap at a hand-over is harmless), and on an admin's request. Each run also has the acquirer's settlement file of yesterday written.
 */
@Injectable()
export class CardChargeJob implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CardChargeJob.name);
  private job: LeaderJob | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ACQUIRER) private readonly acquirer: Acquirer,
    private readonly charges: CardCharges,
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditLog,
    private readonly leadership: Leadership,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.bankCards.chargeIntervalSeconds;
    if (seconds === 0 || this.config.bankCards.acquirer === 'off') return;
    this.job = this.leadership.every(
      seconds * 1000,
      () => this.run(),
      (error) => this.logger.warn({ err: error }, 'the bank-card charge job failed; trying again later'),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.job?.stop();
  }

  /**
   * The admin's trigger (409 ACQUIRER_OFF without an acquirer). The run is many transactions and
   * acquirer calls; its audit entry, with what it did, is written once it is over.
   */
  async runNow(admin: AuthUser, cardId?: string, now = Date.now()): Promise<ChargeRunResult> {
    if (this.config.bankCards.acquirer === 'off') throw new DomainError('conflict', 'ACQUIRER_OFF', 'No card acquirer is configured (ACQUIRER=off)');
    if (cardId !== undefined && !(await this.charges.knows(cardId))) throw new NotFoundError('Bank card', cardId);
    const result = await this.run(now, cardId);
    await this.db.transaction((em) =>
      this.audit.record(em, admin, {
        action: 'bank_cards.charge_run',
        subjectKind: cardId === undefined ? 'bank_card_charge_run' : 'bank_card',
        subjectId: cardId ?? localDateAt(now),
        reason: 'admin_request',
        after: result,
      }),
    );
    return result;
  }

  private async run(now = Date.now(), cardId?: string): Promise<ChargeRunResult> {
    const result = await this.charges.run(now, cardId);
    await this.acquirer.settlementFile(localDateAt(now - DAY_MS));
    return result;
  }
}
