import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** A ticket's first use as a gate began it (a tap the record took): the ticket and the tap's time, epoch ms. */
export interface TicketFirstUse {
  ticketId: string;
  at: number;
}

/**
 * The port through which the tap recorder (validation) hands the tickets module the first uses the gates
 * began, after the taps' commit: kept in `tickets.first_used_at`, so that the ticket shows it, a used
 * ticket cannot be refunded, and a rebuild of the gate state (write-ticket-state.lua) gives it back to
 * the gates after Redis lost it: a used single trip stays used, a started pass keeps its end. The
 * earliest use wins; idempotent, so a batch delivered again changes nothing.
 */
@Injectable()
export class TicketFirstUses {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async record(uses: readonly TicketFirstUse[]): Promise<void> {
    const earliest = new Map<string, number>();
    for (const { ticketId, at } of uses) earliest.set(ticketId, Math.min(earliest.get(ticketId) ?? at, at));
    if (earliest.size === 0) return;
    // A refunded ticket has no use (the refund's claim at the gates refuses a used ticket, and a tap a refunded one).
    await this.db.query(
      `UPDATE tickets t SET first_used_at = to_timestamp(u.at / 1000.0)
         FROM unnest($1::uuid[], $2::bigint[]) AS u (id, at)
        WHERE t.id = u.id AND t.status <> 'refunded' AND (t.first_used_at IS NULL OR t.first_used_at > to_timestamp(u.at / 1000.0))`,
      [[...earliest.keys()], [...earliest.values()]],
    );
  }
}
