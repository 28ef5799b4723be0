import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Leadership, type LeaderJob } from '../database/leadership';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { previousWeekdays, usualExit, type CompletionRule, type PastExit } from './completion-rule';
import { JourneysService, type Correction } from './journeys.service';

const ZONE = `'Asia/Ho_Chi_Minh'`;
const BATCH = 200;

export interface CompletionRunResult {
  looked: number;
  completed: number;
}

/**
 * Completes forgotten exits: every pay-as-you-go journey closed at the maximum fare (timed out) is
 * looked at once, from Postgres, after the tap persister wrote it; where the rider's own history
 * shows a usual exit under the rule in force when the journey began, it is charged the fare to
 * that exit and the difference goes back to the wallet. Runs in the copy leading the singleton
 * jobs (src/database/leadership.ts); each journey is still claimed by one transaction, so a round
 * that outlives its copy's lease does nothing twice. Never on the gate path.
 */
@Injectable()
export class JourneyCompletion implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(JourneyCompletion.name);
  private job: LeaderJob | undefined;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly journeys: JourneysService,
    private readonly leadership: Leadership,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.riders.completionIntervalSeconds;
    if (seconds === 0) return;
    this.job = this.leadership.every(
      seconds * 1000,
      () => this.run(),
      (error) => this.logger.warn({ err: error }, 'completing journeys failed; trying again later'),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.job?.stop();
  }

  /** Looks at every timed-out journey not looked at yet (within the claim window) and completes those the rule allows. */
  async run(): Promise<CompletionRunResult> {
    const result: CompletionRunResult = { looked: 0, completed: 0 };
    for (;;) {
      const candidates = await this.db.query<Array<{ id: string; account_id: string }>>(
        `SELECT j.id, j.account_id FROM journeys j
          WHERE j.status = 'timed_out' AND j.subject_kind = 'payg' AND j.card_id IS NULL AND j.entered_at > now() - make_interval(days => $1)
            AND NOT EXISTS (SELECT 1 FROM journey_completion_checks k WHERE k.journey_id = j.id)
          ORDER BY j.entered_at LIMIT ${BATCH}`,
        [this.config.riders.claimWindowDays],
      );
      for (const candidate of candidates) {
        if (await this.complete(candidate.id, candidate.account_id)) result.completed++;
        result.looked++;
      }
      if (candidates.length < BATCH) return result;
    }
  }

  /** One journey in one transaction: the check row makes a second look (another copy, a retry) do nothing. */
  private async complete(journeyId: string, accountId: string): Promise<boolean> {
    let corrected: Correction | undefined;
    const completed = await this.db.transaction(async (em) => {
      const claimed = await em.query<unknown[]>(
        `INSERT INTO journey_completion_checks (journey_id, outcome) VALUES ($1, 'not_eligible') ON CONFLICT DO NOTHING RETURNING journey_id`,
        [journeyId],
      );
      if (claimed.length === 0) return false;
      const outcome = async (value: 'completed' | 'no_usual_exit') => {
        await em.query(`UPDATE journey_completion_checks SET outcome = $2 WHERE journey_id = $1`, [journeyId, value]);
      };
      let journey;
      try {
        journey = await this.journeys.correctable(em, journeyId, accountId);
      } catch (error) {
        if (error instanceof DomainError) return false; // corrected by a claim, unpaid or free: nothing to complete
        throw error;
      }
      const [rule] = await em.query<Array<CompletionRule & { effectiveFrom: Date }>>(
        `SELECT id, lookback_weekdays AS "lookbackWeekdays", min_matching_days AS "minMatchingDays" FROM journey_completion_rules
          WHERE effective_from <= $1 ORDER BY effective_from DESC LIMIT 1`,
        [journey.enteredAt],
      );
      if (!rule) return false;
      const [{ local_date: localDate }] = await em.query<Array<{ local_date: string }>>(`SELECT (($1::timestamptz) AT TIME ZONE ${ZONE})::date::text AS local_date`, [
        journey.enteredAt,
      ]);
      const window = previousWeekdays(localDate, rule.lookbackWeekdays);
      const past = await em.query<PastExit[]>(
        `SELECT ((j.entered_at AT TIME ZONE ${ZONE})::date)::text AS "localDate", j.exit_station_id AS "exitStationId"
           FROM journeys j
          WHERE j.account_id = $1 AND j.line_id = $2 AND j.entry_station_id = $3 AND j.status = 'closed' AND j.exit_station_id IS NOT NULL
            AND j.entered_at >= ($4::date)::timestamp AT TIME ZONE ${ZONE} AND j.entered_at < ($5::date + 1)::timestamp AT TIME ZONE ${ZONE}`,
        [accountId, journey.lineId, journey.entryStationId, window[window.length - 1], window[0]],
      );
      const exit = usualExit(rule, localDate, past);
      if (exit === undefined || exit === journey.entryStationId) {
        await outcome('no_usual_exit');
        return false;
      }
      corrected = await this.journeys.correct(em, journey, exit, 'auto_completion', rule.id);
      await outcome(corrected.refunded > 0 ? 'completed' : 'no_usual_exit');
      return corrected.refunded > 0;
    });
    if (corrected) await this.journeys.afterCommit(corrected);
    return completed;
  }
}
