import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-error';
import type { NotificationDto, NotificationPageDto } from './notifications.dto';

const PAGE = 200;
const FIRST_LOOK_BACK_MS = 24 * 3600_000;
/** A concession is announced this long before it ends, and for this long after. */
const CONCESSION_NOTICE_DAYS = 14;

interface Cursor {
  /** Taps recorded after this (epoch microseconds). */
  tapMicros: string;
  /** Wallet ledger entries after this id. */
  entryId: string;
}

/**
 * Entries and taps are read once they are a second old: a transaction that began earlier may still
 * commit rows older than the newest one seen.
 *
 * What a rider's app hears about: their taps at the gates, every movement of their wallet (fares
 * charged at exit, refunds, corrections, adjustments, penalties, top-ups) with the balance after it,
 * and concessions about to end or just ended (they then price as adult). Read from Postgres, where
 * the tap persister and the ledger write them: the gate path does nothing more for it.
 */
@Injectable()
export class NotificationsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async page(accountId: string, after: string | undefined): Promise<NotificationPageDto> {
    const cursor = after === undefined ? await this.start() : decode(after);
    const taps = await this.db.query<Array<{ us: string; at: Date; direction: string; station_id: string; line_id: string; verdict: string; reason: string; fare: string | null; charge: string }>>(
      `SELECT (extract(epoch FROM recorded_at) * 1000000)::bigint AS us, occurred_at AS at, direction, station_id, line_id, verdict, reason, fare, charge
         FROM taps WHERE account_id = $1 AND recorded_at > to_timestamp($2::bigint / 1000000.0) AND recorded_at < now() - interval '1 second'
        ORDER BY recorded_at LIMIT ${PAGE}`,
      [accountId, cursor.tapMicros],
    );
    const entries = await this.db.query<Array<{ id: string; at: Date; kind: string; amount: string; reference: string; balance_after: string }>>(
      `SELECT e.id, e.created_at AS at, t.kind, e.amount, t.reference,
              sum(e.amount) OVER (ORDER BY e.id) + coalesce((SELECT sum(p.amount) FROM ledger_entries p WHERE p.ledger_account_id = $1 AND p.id <= $2), 0) AS balance_after
         FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
        WHERE e.ledger_account_id = $1 AND e.id > $2 AND e.created_at < now() - interval '1 second' ORDER BY e.id LIMIT ${PAGE}`,
      [`wallet:${accountId}`, cursor.entryId],
    );
    const next: Cursor = { tapMicros: taps.at(-1)?.us ?? cursor.tapMicros, entryId: entries.at(-1)?.id ?? cursor.entryId };
    const events: Array<NotificationDto & { order: number }> = [
      ...taps.map((row) => ({
        id: encode({ ...next, tapMicros: row.us }),
        type: 'tap' as const,
        at: row.at.toISOString(),
        order: row.at.getTime(),
        data: { direction: row.direction, stationId: row.station_id, lineId: row.line_id, verdict: row.verdict, reason: row.reason, ...(row.fare === null ? {} : { fare: Number(row.fare) }), charge: Number(row.charge) },
      })),
      ...entries.map((row) => ({
        id: encode({ ...next, entryId: row.id }),
        type: 'wallet' as const,
        at: row.at.toISOString(),
        order: row.at.getTime(),
        data: { kind: row.kind, amount: Number(row.amount), balanceAfter: Number(row.balance_after), reference: row.reference },
      })),
    ];
    events.sort((a, b) => a.order - b.order);
    return { events: [...(await this.concessionNotices(accountId)), ...events.map(({ order: _order, ...event }) => event)], cursor: encode(next) };
  }

  private async concessionNotices(accountId: string): Promise<NotificationDto[]> {
    const rows = await this.db.query<Array<{ id: string; category: string; valid_until: Date; expired: boolean }>>(
      `SELECT id, category, valid_until, valid_until <= now() AS expired FROM concession_claims
        WHERE account_id = $1 AND status = 'approved' AND valid_until IS NOT NULL
          AND valid_until BETWEEN now() - make_interval(days => $2) AND now() + make_interval(days => $2)
        ORDER BY valid_until`,
      [accountId, CONCESSION_NOTICE_DAYS],
    );
    return rows.map((row) => ({
      id: `concession-${row.id}`,
      type: row.expired ? 'concession_expired' : 'concession_expiring',
      at: row.valid_until.toISOString(),
      data: { category: row.category, validUntil: row.valid_until.toISOString(), ...(row.expired && { nowPricedAs: 'adult' }) },
    }));
  }

  /** Without a cursor: the last day's taps, and every wallet movement since then. */
  private async start(): Promise<Cursor> {
    const since = Date.now() - FIRST_LOOK_BACK_MS;
    const [row] = await this.db.query<Array<{ id: string | null }>>(`SELECT max(id) AS id FROM ledger_entries WHERE created_at < $1`, [new Date(since)]);
    return { tapMicros: String(since * 1000), entryId: row?.id ?? '0' };
  }
}

function encode(cursor: Cursor): string {
  return Buffer.from(`${cursor.tapMicros}.${cursor.entryId}`).toString('base64url');
}

function decode(text: string): Cursor {
  const [tapMicros, entryId, extra] = Buffer.from(text, 'base64url').toString('utf8').split('.');
  if (!tapMicros || !entryId || extra !== undefined || !/^\d{1,20}$/.test(tapMicros) || !/^\d{1,20}$/.test(entryId)) {
    throw new DomainError('invalid', 'VALIDATION_FAILED', 'after is not a cursor this feed returned', [{ field: 'after', problem: 'is not a cursor' }]);
  }
  return { tapMicros, entryId };
}
