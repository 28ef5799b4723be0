import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { MODE_BITS } from '../fares/domain/fare-calculator';
import { localDateAt } from '../fares/domain/local-time';
import { FaresService } from '../fares/fares.service';
import type { RiderCategory } from '../fares/rider-category';
import { CardGateState } from '../gate-state/card-gate-state';
import { Ledger, SYSTEM_LEDGER_ACCOUNTS } from '../payments/ledger';
import { ACQUIRER, type Acquirer, type AcquirerEvent, type Authorisation } from './acquirer';
import { CardTokens, cardLabel } from './card-tokens';

const ZONE = `'Asia/Ho_Chi_Minh'`;
/** Card journeys are looked for this far back: the batch window (30 days) and some. */
const LOOKBACK_DAYS = 40;

export type ChargeStatus = 'pending' | 'authorising' | 'authorised' | 'captured' | 'declined';
export type AttemptTrigger = 'job' | 'retry' | 'rider';

export interface ChargeRunResult {
  /** Charges gathered from journeys by this run. */
  created: number;
  captured: number;
  declined: number;
}

interface Candidate {
  card_id: string;
  day: string;
  line_id: string;
  charge: string;
}

interface ChargeRow {
  id: string;
  card_id: string;
  local_day: string;
  amount: string;
  status: ChargeStatus;
  attempts: number;
  retries: number;
  authorisation: string | null;
  first_declined_at: Date | null;
  next_retry_at: Date | null;
  sealed_token: string;
}

type Step = { next: 'done' } | { next: 'authorise'; attempt: number; charge: ChargeRow } | { next: 'capture'; charge: ChargeRow };

/**
 * A bank card's priced journeys become charges, and charges become money:
 *   gather  the journeys of a card and local day not yet in a charge (days that ended, or today once
 *           the card has reached its day cap) into one charge, in one transaction under a per-card lock;
 *   attempt authorise (key `<charge>:auth:<n>`, n recorded before asking), then capture (key
 *           `<charge>:capture`), each step recorded after the acquirer's answer. A job killed at any
 *           point and run again asks again with the same key and gets the same answer: no card is
 *           charged twice. The acquirer's webhook applies the same answers through `applyEvent`.
 * A decline makes the charge a debt and puts the card on the deny list; retries follow
 * BANK_CARD_RETRY_HOURS from the first decline, and the rider may pay at once (CardDebts). Once a
 * card owes nothing, it leaves the deny list. A captured charge posts one `card_fare` ledger
 * transaction per journey, from the acquirer's clearing account to ticket sales.
 */
@Injectable()
export class CardCharges {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ACQUIRER) private readonly acquirer: Acquirer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: CardTokens,
    private readonly ledger: Ledger,
    private readonly gate: CardGateState,
    private readonly fares: FaresService,
  ) {}

  /**
   * The job: gathers what is due, then asks the acquirer for every charge pending, in flight or due
   * a retry; of every card, or of one (`cardId`).
   */
  async run(now = Date.now(), cardId?: string): Promise<ChargeRunResult> {
    const result: ChargeRunResult = { created: await this.gather(now, cardId), captured: 0, declined: 0 };
    const due = await this.db.query<Array<{ id: string; status: ChargeStatus }>>(
      `SELECT id, status FROM bank_card_charges
        WHERE (status IN ('pending', 'authorising', 'authorised') OR (status = 'declined' AND next_retry_at <= $1))
          AND ($2::text IS NULL OR card_id = $2)
        ORDER BY created_at, id`,
      [new Date(now), cardId ?? null],
    );
    for (const { id, status } of due) {
      const outcome = await this.attempt(id, status === 'declined' ? 'retry' : 'job', now);
      if (outcome === 'captured') result.captured++;
      if (outcome === 'declined') result.declined++;
    }
    return result;
  }

  /** Charges for days that ended, and for today where a card has reached its day cap. */
  async gather(now = Date.now(), cardId?: string): Promise<number> {
    const today = localDateAt(now);
    const candidates = await this.db.query<Candidate[]>(
      `SELECT j.card_id, (j.entered_at AT TIME ZONE ${ZONE})::date::text AS day, j.line_id, j.charge
         FROM journeys j
        WHERE j.card_id IS NOT NULL AND j.status <> 'open' AND j.charge > 0
          AND j.entered_at >= $1::timestamptz - make_interval(days => ${LOOKBACK_DAYS})
          AND NOT EXISTS (SELECT 1 FROM bank_card_charge_journeys c WHERE c.journey_id = j.id)
          AND ($2::text IS NULL OR j.card_id = $2)`,
      [new Date(now), cardId ?? null],
    );
    const groups = new Map<string, { cardId: string; day: string }>();
    for (const row of candidates) groups.set(`${row.card_id}|${row.day}`, { cardId: row.card_id, day: row.day });
    let created = 0;
    for (const group of groups.values()) {
      let trigger: 'day_end' | 'cap' = 'day_end';
      if (group.day >= today) {
        if (!(await this.atDayCap(group.cardId, group.day, now))) continue;
        trigger = 'cap';
      }
      if (await this.gatherOne(group.cardId, group.day, trigger)) created++;
    }
    return created;
  }

  /** Whether the card's fares of today (charged or not) have reached the day cap of the modes it used. */
  private async atDayCap(cardId: string, day: string, now: number): Promise<boolean> {
    const [spend] = await this.db.query<Array<{ spent: string; lines: string[]; category: RiderCategory | null }>>(
      `SELECT coalesce(sum(charge), 0) AS spent, array_agg(DISTINCT line_id) AS lines, max(rider_category) AS category FROM journeys
        WHERE card_id = $1 AND status <> 'open'
          AND entered_at >= ($2::date::timestamp AT TIME ZONE ${ZONE}) AND entered_at < (($2::date + 1)::timestamp AT TIME ZONE ${ZONE})`,
      [cardId, day],
    );
    const calculator = this.fares.calculator();
    let bits = 0;
    for (const lineId of spend.lines ?? []) {
      const line = calculator.snapshot.lines.find((candidate) => candidate.id === lineId);
      if (line) bits |= MODE_BITS[line.mode];
    }
    const cap = bits === 0 ? null : calculator.capFor('day', bits, spend.category ?? 'adult', now);
    return cap !== null && Number(spend.spent) >= cap;
  }

  /** One card's uncharged journeys of one day into a new charge (none: false). */
  private async gatherOne(cardId: string, day: string, trigger: 'day_end' | 'cap'): Promise<boolean> {
    return this.db.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('bank-card-charge:' || $1))`, [cardId]);
      const journeys = await em.query<Array<{ id: string; entered_at: Date; line_id: string; charge: string; card_token: string | null }>>(
        `SELECT j.id, j.entered_at, j.line_id, j.charge, j.card_token FROM journeys j
          WHERE j.card_id = $1 AND j.status <> 'open' AND j.charge > 0
            AND j.entered_at >= ($2::date::timestamp AT TIME ZONE ${ZONE}) AND j.entered_at < (($2::date + 1)::timestamp AT TIME ZONE ${ZONE})
            AND NOT EXISTS (SELECT 1 FROM bank_card_charge_journeys c WHERE c.journey_id = j.id)
          ORDER BY j.entered_at, j.id`,
        [cardId, day],
      );
      if (journeys.length === 0) return false;
      // The newest token sealed on a journey; a linked card's row already holds one.
      const sealed = journeys.map((journey) => journey.card_token).filter((token): token is string => token !== null).pop();
      if (sealed !== undefined) {
        await em.query(`INSERT INTO bank_cards (id, sealed_token, label) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, [cardId, sealed, cardLabel(cardId)]);
      } else if ((await em.query<unknown[]>(`SELECT 1 FROM bank_cards WHERE id = $1`, [cardId])).length === 0) {
        return false;
      }
      const amount = journeys.reduce((sum, journey) => sum + Number(journey.charge), 0);
      const [charge] = await em.query<Array<{ id: string }>>(
        `INSERT INTO bank_card_charges (card_id, local_day, sequence, trigger, amount, status)
         SELECT $1, $2::date, coalesce(max(sequence), 0) + 1, $3, $4, 'pending' FROM bank_card_charges WHERE card_id = $1 AND local_day = $2::date
         RETURNING id`,
        [cardId, day, trigger, amount],
      );
      await em.query(
        `INSERT INTO bank_card_charge_journeys (journey_id, journey_entered_at, charge_id, line_id, amount)
         SELECT (j->>'id')::uuid, (j->>'entered_at')::timestamptz, $1, j->>'line_id', (j->>'charge')::bigint FROM json_array_elements($2::json) j`,
        [charge.id, JSON.stringify(journeys.map(({ id, entered_at, line_id, charge: fare }) => ({ id, entered_at, line_id, charge: fare })))],
      );
      return true;
    });
  }

  /**
   * One step forward for a charge, as far as it goes: authorise (a new attempt, or the same attempt
   * again after a crash), then capture. A retry is asked only when due; the rider may ask any time.
   * Returns the charge's status afterwards.
   */
  async attempt(chargeId: string, trigger: AttemptTrigger, now = Date.now()): Promise<ChargeStatus> {
    const step = await this.db.transaction((em) => this.nextStep(em, chargeId, trigger, now));
    if (step.next === 'done') return this.statusOf(chargeId);
    let authorisation = step.charge.authorisation;
    if (step.next === 'authorise') {
      const key = authorisationKey(chargeId, step.attempt);
      const answer = await this.acquirer.authorise({ idempotencyKey: key, token: this.tokens.open(step.charge.sealed_token), amount: Number(step.charge.amount), reference: chargeId });
      await this.applyAuthorisation(chargeId, step.attempt, answer);
      if (answer.outcome === 'declined') return this.statusOf(chargeId);
      authorisation = answer.authorisation;
    }
    const captured = await this.acquirer.capture({ idempotencyKey: `${chargeId}:capture`, authorisation: authorisation!, amount: Number(step.charge.amount), reference: chargeId });
    await this.applyCapture(chargeId, captured.acquirerReference);
    return this.statusOf(chargeId);
  }

  /** Whether the service has seen the card: linked, or on a journey. */
  async knows(cardId: string): Promise<boolean> {
    const [row] = await this.db.query<unknown[]>(
      `SELECT 1 FROM bank_cards WHERE id = $1 UNION ALL (SELECT 1 FROM journeys WHERE card_id = $1 LIMIT 1) LIMIT 1`,
      [cardId],
    );
    return row !== undefined;
  }

  /** The acquirer's signed webhook (401 INVALID_SIGNATURE when the signature does not match). */
  async handleWebhook(rawBody: string | undefined, signature: string | undefined): Promise<{ applied: boolean }> {
    return { applied: await this.applyEvent(this.acquirer.verifyWebhook(rawBody, signature)) };
  }

  /** The acquirer's webhook: the same answers the job applies, applied once whoever comes first. */
  async applyEvent(event: AcquirerEvent): Promise<boolean> {
    const auth = /^([0-9a-f-]{36}):auth:(\d+)$/.exec(event.idempotencyKey);
    if (event.type === 'authorisation.approved' && auth) {
      return this.applyAuthorisation(auth[1], Number(auth[2]), { outcome: 'approved', authorisation: event.acquirerReference });
    }
    if (event.type === 'authorisation.declined' && auth) {
      return this.applyAuthorisation(auth[1], Number(auth[2]), { outcome: 'declined', declineCode: event.declineCode ?? 'declined', acquirerReference: event.acquirerReference });
    }
    if (event.type === 'capture.succeeded' && event.idempotencyKey === `${event.reference}:capture`) return this.applyCapture(event.reference, event.acquirerReference);
    return false;
  }

  private async nextStep(em: EntityManager, chargeId: string, trigger: AttemptTrigger, now: number): Promise<Step> {
    const [charge] = await em.query<ChargeRow[]>(
      `SELECT c.*, c.local_day::text AS local_day, b.sealed_token FROM bank_card_charges c JOIN bank_cards b ON b.id = c.card_id WHERE c.id = $1 FOR UPDATE OF c`,
      [chargeId],
    );
    if (!charge || charge.status === 'captured') return { next: 'done' };
    if (charge.status === 'authorised') return { next: 'capture', charge };
    if (charge.status === 'authorising') return { next: 'authorise', attempt: charge.attempts, charge };
    if (charge.status === 'declined' && trigger === 'retry' && (charge.next_retry_at === null || charge.next_retry_at.getTime() > now)) return { next: 'done' };
    const attempt = charge.attempts + 1;
    await em.query(`UPDATE bank_card_charges SET status = 'authorising', attempts = $2, retries = retries + $3 WHERE id = $1`, [chargeId, attempt, trigger === 'retry' ? 1 : 0]);
    await em.query(`INSERT INTO bank_card_charge_attempts (charge_id, attempt, trigger) VALUES ($1, $2, $3)`, [chargeId, attempt, trigger]);
    return { next: 'authorise', attempt, charge };
  }

  /** Records attempt n's answer, once (later copies of it change nothing). */
  private async applyAuthorisation(chargeId: string, attempt: number, answer: Authorisation): Promise<boolean> {
    let denied: string | undefined;
    const applied = await this.db.transaction(async (em) => {
      const [charge] = await em.query<ChargeRow[]>(`SELECT * FROM bank_card_charges WHERE id = $1 AND status = 'authorising' AND attempts = $2 FOR UPDATE`, [chargeId, attempt]);
      if (!charge) return false;
      await em.query(`UPDATE bank_card_charge_attempts SET outcome = $3, answered_at = now() WHERE charge_id = $1 AND attempt = $2`, [chargeId, attempt, answer.outcome]);
      if (answer.outcome === 'approved') {
        await em.query(`UPDATE bank_card_charges SET status = 'authorised', authorisation = $2 WHERE id = $1`, [chargeId, answer.authorisation]);
        return true;
      }
      const firstDeclinedAt = charge.first_declined_at ?? new Date();
      const schedule = this.config.bankCards.retryScheduleHours;
      const nextRetry = charge.retries < schedule.length ? new Date(firstDeclinedAt.getTime() + schedule[charge.retries] * 3_600_000) : null;
      await em.query(
        `UPDATE bank_card_charges SET status = 'declined', decline_code = $2, declined_at = now(), first_declined_at = $3, next_retry_at = $4, acquirer_reference = $5 WHERE id = $1`,
        [chargeId, answer.declineCode, firstDeclinedAt, nextRetry, answer.acquirerReference],
      );
      await setDenial(em, charge.card_id, true);
      denied = charge.card_id;
      return true;
    });
    if (denied) await this.gate.setDenied(denied, true);
    return applied;
  }

  /** The capture: the charge is paid, one ledger transaction per journey, and a card that owes nothing more leaves the deny list. */
  private async applyCapture(chargeId: string, acquirerReference: string): Promise<boolean> {
    let restored: string | undefined;
    const applied = await this.db.transaction(async (em) => {
      const [charge] = await em.query<ChargeRow[]>(`SELECT * FROM bank_card_charges WHERE id = $1 AND status = 'authorised' FOR UPDATE`, [chargeId]);
      if (!charge) return false;
      const [{ trigger }] = await em.query<Array<{ trigger: AttemptTrigger }>>(
        `SELECT trigger FROM bank_card_charge_attempts WHERE charge_id = $1 AND attempt = $2`,
        [chargeId, charge.attempts],
      );
      await em.query(
        `UPDATE bank_card_charges SET status = 'captured', captured_at = now(), acquirer_reference = $2, next_retry_at = NULL,
                recovered_by = CASE WHEN first_declined_at IS NULL THEN NULL ELSE $3 END WHERE id = $1`,
        [chargeId, acquirerReference, trigger === 'rider' ? 'rider' : 'retry'],
      );
      const journeys = await em.query<Array<{ journey_id: string; amount: string }>>(`SELECT journey_id, amount FROM bank_card_charge_journeys WHERE charge_id = $1 ORDER BY journey_id`, [chargeId]);
      for (const journey of journeys) {
        await this.ledger.transfer(em, {
          kind: 'card_fare',
          reference: journey.journey_id,
          from: SYSTEM_LEDGER_ACCOUNTS.acquirerClearing,
          to: SYSTEM_LEDGER_ACCOUNTS.ticketSales,
          amount: Number(journey.amount),
        });
      }
      if (charge.first_declined_at !== null) {
        const [owing] = await em.query<unknown[]>(
          `SELECT 1 FROM bank_card_charges WHERE card_id = $1 AND id <> $2 AND first_declined_at IS NOT NULL AND status <> 'captured' LIMIT 1`,
          [charge.card_id, chargeId],
        );
        if (!owing) {
          await setDenial(em, charge.card_id, false);
          restored = charge.card_id;
        }
      }
      return true;
    });
    if (restored) await this.gate.setDenied(restored, false);
    return applied;
  }

  private async statusOf(chargeId: string): Promise<ChargeStatus> {
    const [row] = await this.db.query<Array<{ status: ChargeStatus }>>(`SELECT status FROM bank_card_charges WHERE id = $1`, [chargeId]);
    return row.status;
  }
}

export function authorisationKey(chargeId: string, attempt: number): string {
  return `${chargeId}:auth:${attempt}`;
}

async function setDenial(em: EntityManager, cardId: string, denied: boolean): Promise<void> {
  await em.query(
    `INSERT INTO bank_card_denials (card_id, denied, reason) VALUES ($1, $2, $3)
     ON CONFLICT (card_id) DO UPDATE SET denied = EXCLUDED.denied, reason = EXCLUDED.reason, changed_at = now()
     WHERE bank_card_denials.denied <> EXCLUDED.denied`,
    [cardId, denied, denied ? 'unpaid charge' : 'debt paid'],
  );
}
