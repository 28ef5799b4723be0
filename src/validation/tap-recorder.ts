import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { localDayNumber } from '../fares/domain/local-time';
import { TAP_EVENT_FIELDS, tapBody, tapUndoId, type OutcomeField, type TapEvent } from '../gate-state/gate-state';
import { GateTapUndo, type RefusedTap } from '../gate-state/gate-tap-undo';
import { RedisRetries } from '../redis/redis-retries';
import { recordedTapsIn, type RecordedTap } from './recorded-taps';
import { MediumClones, MediumCounters } from '../media/media-records';
import { TicketFirstUses } from '../tickets/ticket-first-uses';
import { FareCharger } from './fare-charger';
import { TapPartitions } from './tap-partitions';

/**
 * Records a batch of tap events in Postgres: the taps (once per (device, tap id)), the journeys they
 * open and close, and the fares of closed pay-as-you-go journeys (FareCharger), in one transaction.
 *
 * A tap whose (device, tap id) the record already holds, and which is not that very tap again (a stream
 * entry delivered twice), was applied by gate.lua while the tap memory had forgotten the id (or twice in
 * one batch): the record refuses it. It is kept in `tap_conflicts`, left out of journeys and fares, and
 * after the commit handed to the gate state (GateTapUndo), which undoes it at the gates; the latest
 * tap first, so that what one refused tap changed after another is undone before it.
 */
@Injectable()
export class TapRecorder {
  private readonly logger = new Logger(TapRecorder.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly partitions: TapPartitions,
    private readonly fares: FareCharger,
    private readonly gateUndo: GateTapUndo,
    private readonly retries: RedisRetries,
    private readonly clones: MediumClones,
    private readonly counters: MediumCounters,
    private readonly firstUses: TicketFirstUses,
  ) {}

  /**
   * One transaction for the batch, a few statements whatever its size; replays of anything already
   * written change nothing (tap keys, and journeys closed only while open). A transit card the gates
   * found cloned is then recorded as blocked by the media module, and each card's highest counter kept
   * (after the taps' commit; idempotent).
   */
  async persist(events: readonly TapEvent[]): Promise<void> {
    const refused = await this.persistTaps(events.filter((event) => event.ev !== 'clone'));
    await this.counters.record(events);
    // The tickets module keeps the first uses the gates began, but not one of a tap the record refused (undone).
    await this.firstUses.record(
      events.filter((event) => event.ev === 'tap' && event.fu === '1' && event.sub && !refused.has(event)).map((event) => ({ ticketId: event.sub!, at: Number(event.at) })),
    );
    for (const event of events) if (event.ev === 'clone' && event.mid) await this.clones.record(event.mid);
  }

  /** Writes the taps and journeys; returns the taps the record refused (already undone at the gates). */
  private async persistTaps(events: readonly TapEvent[]): Promise<Set<TapEvent>> {
    if (events.length === 0) return new Set();
    const days = new Set<number>();
    for (const event of events) {
      if (event.ev === 'tap') days.add(localDayNumber(Number(event.at)));
      if (event.jat) days.add(localDayNumber(Number(event.jat)));
    }
    for (const day of days) await this.partitions.ensure(day);
    const refused = await this.db.transaction(async (em) => {
      const taps = events.filter((event) => event.ev === 'tap');
      const fresh = await insertTaps(em, taps);
      // The record took the first tap of each new (device, tap id); any other is a replay or refused.
      const taken = new Set<TapEvent>();
      const others: TapEvent[] = [];
      for (const tap of taps) {
        if (fresh.delete(tapKey(tap.dev ?? '', tap.tap ?? ''))) taken.add(tap);
        else others.push(tap);
      }
      const opened: TapEvent[] = [];
      const closed = new Map<string, TapEvent>();
      for (const event of events) {
        if (!event.jid || (event.ev === 'tap' && !taken.has(event))) continue;
        if (event.ev === 'tap' && event.dir === 'entry') opened.push(event);
        else if (!closed.has(event.jid)) closed.set(event.jid, event);
      }
      await openJourneys(em, opened);
      for (const journey of await closeJourneys(em, [...closed.values()])) {
        // A journey a bank card pays (its own, or a card linked to the account) is charged to the card by the charge job.
        if (journey.subject_kind !== 'payg' || journey.card_id !== null || Number(journey.charge) === 0) continue;
        const unpaid = await this.fares.charge(em, journey.account_id, journey.id, Number(journey.charge));
        if (unpaid > 0) await em.query(`UPDATE journeys SET unpaid = $3 WHERE id = $1 AND entered_at = $2`, [journey.id, journey.entered_at, unpaid]);
      }
      return others.length > 0 ? recordRefused(em, others) : [];
    });
    for (const tap of refused.reverse()) {
      const { dev, tap: tapId, at } = tap.event;
      await this.retries.write(`the undo at the gates of tap ${tapId} of device ${dev} (${at}), which the record refused`, () => this.gateUndo.undo(tap));
    }
    if (refused.length > 0) this.logger.warn(`the record refused ${refused.length} tap(s) whose (device, tap id) it already held; undone at the gates (tap_conflicts)`);
    return new Set(refused.map((tap) => tap.event));
  }
}

/**
 * Of taps whose (device, tap id) the record already held, those that are not the recorded tap itself
 * (another body, or the same body applied again by gate.lua): kept in tap_conflicts, and returned with
 * what the gates need to undo them.
 */
async function recordRefused(em: EntityManager, taps: readonly TapEvent[]): Promise<RefusedTap[]> {
  const recorded = new Map((await recordedTapsIn(em, taps.map(({ dev, tap }) => ({ dev: dev ?? '', tap: tap ?? '' })))).map((row) => [tapKey(row.deviceId, row.tapId), row]));
  const refused: RefusedTap[] = [];
  for (const event of taps) {
    const record = recorded.get(tapKey(event.dev ?? '', event.tap ?? ''));
    if (record && isRecordedTap(event, record)) continue;
    refused.push({ event, reopenJourney: false, recorded: record ? { body: record.body, answer: answerOf(record) } : null });
  }
  if (refused.length === 0) return refused;
  await em.query(
    `INSERT INTO tap_conflicts (device_id, tap_id, application, occurred_at, same_body, event)
     SELECT r.dev, r.tap, r.application, to_timestamp(r.at::bigint / 1000.0), r.same_body, r.event FROM json_to_recordset($1::json) AS r (dev text, tap text, application text, at text, same_body boolean, event jsonb)
     ON CONFLICT DO NOTHING`,
    [
      JSON.stringify(
        refused.map(({ event, recorded: record }) => ({
          dev: event.dev,
          tap: event.tap,
          application: tapUndoId(event),
          at: event.at,
          same_body: record?.body === tapBody(event.kind ?? '', event.sub ?? '', event.dir ?? '', event.st ?? '', event.mid ?? ''),
          event,
        })),
      ),
    ],
  );
  // A journey such a tap closed at the gates opens again there only while the record holds it open.
  const closing = refused.filter(({ event }) => event.dir === 'exit' && event.verdict === 'accept' && event.jid);
  if (closing.length > 0) {
    const open = new Set(
      (await em.query<Array<{ id: string }>>(`SELECT id FROM journeys WHERE status = 'open' AND id = ANY($1::uuid[])`, [closing.map(({ event }) => event.jid)])).map((row) => row.id),
    );
    for (const tap of closing) tap.reopenJourney = open.has(tap.event.jid!);
  }
  return refused;
}

/** The same stream entry again (a redelivery): the tap the record holds, not another application of gate.lua. */
function isRecordedTap(event: TapEvent, record: RecordedTap): boolean {
  return (
    record.at === Number(event.at) &&
    (record.journeyId ?? '') === (event.jid ?? '') &&
    record.verdict === event.verdict &&
    record.reason === event.reason &&
    record.charge === Number(event.charge ?? 0) &&
    record.body === tapBody(event.kind ?? '', event.sub ?? '', event.dir ?? '', event.st ?? '', event.mid ?? '')
  );
}

/** The recorded tap's answer as gate.lua gave it (OUTCOME_FIELDS), for the tap memory. */
function answerOf(record: RecordedTap): Record<OutcomeField, string> {
  return {
    verdict: record.verdict,
    reason: record.reason,
    valid: record.valid ? '1' : '0',
    charge: String(record.charge),
    balance: record.balance === null ? '' : String(record.balance),
    jid: record.journeyId ?? '',
    fare: record.fare === null ? '' : String(record.fare),
  };
}

function tapKey(deviceId: string, tapId: string): string {
  return `${deviceId}\u0000${tapId}`;
}

/**
 * The batch's events as Postgres rows, one text column per field of the tap event (gate-state.ts
 * TAP_EVENT_FIELDS): json_to_recordset reads them in C, with no per-value work here.
 */
const EVENT_ROWS = `json_to_recordset($1::json) AS e (${TAP_EVENT_FIELDS.map((field) => `"${field}" text`).join(', ')})`;
/** The same, numbered in batch order (n). */
const NUMBERED_EVENT_ROWS = `ROWS FROM (json_to_recordset($1::json) AS (${TAP_EVENT_FIELDS.map((field) => `"${field}" text`).join(', ')})) WITH ORDINALITY AS e (${TAP_EVENT_FIELDS.map((field) => `"${field}"`).join(', ')}, n)`;

/** Inserts the taps not seen before, the first of the batch for each (device, tap id), and returns their keys. */
async function insertTaps(em: EntityManager, taps: readonly TapEvent[]): Promise<Set<string>> {
  if (taps.length === 0) return new Set();
  const rows = await em.query<Array<{ device_id: string; tap_id: string }>>(
    `WITH batch AS (SELECT DISTINCT ON (dev, tap) * FROM ${NUMBERED_EVENT_ROWS} ORDER BY dev, tap, n),
     fresh AS (
       INSERT INTO tap_keys (device_id, tap_id) SELECT dev, tap FROM batch ON CONFLICT DO NOTHING RETURNING device_id, tap_id
     )
     INSERT INTO taps (device_id, tap_id, occurred_at, direction, station_id, line_id, subject_kind, ticket_id, account_id, rider_category,
       verdict, reason, valid, offline, journey_id, fare, full_fare, charge, balance, medium_kind, medium_ref, card_id)
     SELECT b.dev, b.tap, to_timestamp(b.at::bigint / 1000.0), b.dir, b.st, b.ln, b.kind, ${TICKET_OF('b')},
       NULLIF(b.acct, ''), b.cat, b.verdict, b.reason, b.valid = '1', b.off = '1', NULLIF(b.jid, '')::uuid,
       NULLIF(b.fare, '')::bigint, NULLIF(b."full", '')::bigint, b.charge::bigint, NULLIF(b.bal, '')::bigint, ${MEDIUM_OF('b')}, ${CARD_OF('b')}
       FROM batch b JOIN fresh f ON f.device_id = b.dev AND f.tap_id = b.tap
     RETURNING device_id, tap_id`,
    [JSON.stringify(taps)],
  );
  return new Set(rows.map((row) => tapKey(row.device_id, row.tap_id)));
}

/** A tap's ticket: its subject when that is a ticket (not an account, nor a free ride's medium). */
const TICKET_OF = (e: string) => `CASE WHEN ${e}.kind IN ('single', 'pass') THEN ${e}.sub END`;
/** A bank card's tap: the card shown (its subject, or a card linked to the account). */
const CARD_OF = (e: string) => `CASE WHEN ${e}.kind = 'bank_card' THEN ${e}.sub WHEN ${e}.med = 'bank_card' THEN NULLIF(${e}.mid, '') END`;
/** The card that pays a journey: the card's own journey, or the linked card its entry was made with (the event's `pay`). */
const PAYING_CARD_OF = (e: string) => `CASE WHEN ${e}.kind = 'bank_card' THEN ${e}.sub ELSE NULLIF(${e}.pay, '') END`;
/** A tap's medium: its kind (a QR when none) and reference. */
const MEDIUM_OF = (e: string) => `COALESCE(NULLIF(${e}.med, ''), 'qr'), NULLIF(${e}.mid, '')`;

/** The entry side of a journey from any of its events: the journey id, and where and when it began, and with which medium. */
const JOURNEY_ENTRY = `NULLIF(e.jid, '')::uuid, to_timestamp(e.jat::bigint / 1000.0), e.kind, ${TICKET_OF('e')},
  NULLIF(e.acct, ''), e.cat, e.ln, e.jst, ${MEDIUM_OF('e')}, ${PAYING_CARD_OF('e')}, NULLIF(e.ctok, '')`;
const JOURNEY_ENTRY_COLUMNS = 'id, entered_at, subject_kind, ticket_id, account_id, rider_category, line_id, entry_station_id, medium_kind, medium_ref, card_id, card_token';

/** The journeys these entries opened (an earlier copy of an entry already did: nothing). */
async function openJourneys(em: EntityManager, entries: readonly TapEvent[]): Promise<void> {
  if (entries.length === 0) return;
  await em.query(
    `INSERT INTO journeys (${JOURNEY_ENTRY_COLUMNS}, status)
     SELECT ${JOURNEY_ENTRY}, 'open' FROM ${EVENT_ROWS}
     ON CONFLICT (id, entered_at) DO NOTHING`,
    [JSON.stringify(entries)],
  );
}

interface ClosedJourney {
  id: string;
  entered_at: Date;
  subject_kind: string;
  account_id: string;
  card_id: string | null;
  charge: string;
}

/**
 * Closes journeys by an exit or a timeout, creating any whose entry has not arrived yet (a claimed
 * batch can come after a later one). Returns only the journeys this call closed.
 */
async function closeJourneys(em: EntityManager, closes: readonly TapEvent[]): Promise<ClosedJourney[]> {
  if (closes.length === 0) return [];
  return em.query<ClosedJourney[]>(
    `INSERT INTO journeys (${JOURNEY_ENTRY_COLUMNS},
       exit_station_id, exited_at, timed_out_at, status, fare, full_fare, charge)
     SELECT ${JOURNEY_ENTRY},
            CASE WHEN e.ev = 'timeout' THEN NULL ELSE e.st END, CASE WHEN e.ev = 'timeout' THEN NULL ELSE to_timestamp(e.at::bigint / 1000.0) END,
            CASE WHEN e.ev = 'timeout' THEN to_timestamp(e.at::bigint / 1000.0) END,
            CASE WHEN e.ev = 'timeout' THEN 'timed_out' ELSE 'closed' END,
            COALESCE(NULLIF(e.fare, ''), '0')::bigint, COALESCE(NULLIF(e."full", ''), '0')::bigint, e.charge::bigint
       FROM ${EVENT_ROWS}
     ON CONFLICT (id, entered_at) DO UPDATE SET exit_station_id = EXCLUDED.exit_station_id, exited_at = EXCLUDED.exited_at,
       timed_out_at = EXCLUDED.timed_out_at, status = EXCLUDED.status, fare = EXCLUDED.fare, full_fare = EXCLUDED.full_fare, charge = EXCLUDED.charge
     WHERE journeys.status = 'open'
     RETURNING id, entered_at, subject_kind, account_id, card_id, charge`,
    [JSON.stringify(closes)],
  );
}
