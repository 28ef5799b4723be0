import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { TapEvent } from '../gate-state/gate-state';
import { MediaGateState, type GateMediumRecord } from '../gate-state/media-gate-state';
import type { MediumKind, MediumStatus } from './medium-kinds';

/** A row of `media`, the media module's table (its status changes go to `media_events`). */
export interface MediumRow {
  id: string;
  kind: MediumKind;
  lookup_hash: string;
  account_id: string | null;
  status: MediumStatus;
  label: string;
  birth_check: string | null;
  /** Transit cards: the highest counter the gates saw it present (bigint as text). */
  last_counter: string | null;
  created_at: Date;
  updated_at: Date;
}

export const COLUMNS = 'id, kind, lookup_hash, account_id, status, label, birth_check, last_counter, created_at, updated_at';

/**
 * A transit card the gates found cloned (medium.lua blocked it there and streamed a `clone` event):
 * recorded as blocked, once, by the tap persister after its batch commits. Kept apart from MediaService
 * so that the persister's worker thread needs only Postgres and the gate state.
 */
@Injectable()
export class MediumClones {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gate: MediaGateState,
  ) {}

  async record(mediumId: string): Promise<void> {
    const changed = await this.db.transaction(async (em) => {
      const [row] = await em.query<MediumRow[]>(`SELECT ${COLUMNS} FROM media WHERE id = $1 FOR UPDATE`, [mediumId]);
      if (!row || row.status !== 'active') return undefined;
      return changeStatus(em, row, 'blocked', 'cloned: a counter presented twice', null);
    });
    if (changed) await this.gate.put([gateRecord(changed)]);
  }
}

/**
 * The highest counter each transit card presented in a batch of tap events (`mctr`), kept in `media`
 * by the tap persister after the batch commits (idempotent: only ever raised), so that the gate-state
 * rebuild gives a Redis that lost its data the counters clone checks need.
 */
@Injectable()
export class MediumCounters {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async record(events: readonly TapEvent[]): Promise<void> {
    const highest = new Map<string, number>();
    for (const event of events) {
      if (event.ev !== 'tap' || event.med !== 'transit_card' || !event.mid || !event.mctr) continue;
      highest.set(event.mid, Math.max(highest.get(event.mid) ?? -1, Number(event.mctr)));
    }
    if (highest.size === 0) return;
    await this.db.query(
      `UPDATE media m SET last_counter = greatest(coalesce(m.last_counter, -1), c.counter)
         FROM unnest($1::text[], $2::bigint[]) AS c (hash, counter)
        WHERE m.kind = 'transit_card' AND m.lookup_hash = c.hash AND (m.last_counter IS NULL OR m.last_counter < c.counter)`,
      [[...highest.keys()], [...highest.values()]],
    );
  }
}

export async function changeStatus(em: EntityManager, row: MediumRow, status: MediumStatus, reason: string, actorId: string | null): Promise<MediumRow> {
  const [[updated]] = await em.query<[MediumRow[], number]>(`UPDATE media SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [row.id, status]);
  await recordEvent(em, updated, row.status, reason, actorId);
  return updated;
}

export async function recordEvent(em: EntityManager, row: MediumRow, previous: MediumStatus | null, reason: string, actorId: string | null): Promise<void> {
  await em.query(`INSERT INTO media_events (media_id, status, previous_status, account_id, reason, actor_id) VALUES ($1, $2, $3, $4, $5, $6)`, [
    row.id,
    row.status,
    previous,
    row.account_id,
    reason,
    actorId,
  ]);
}

export function gateRecord(row: MediumRow): GateMediumRecord {
  return {
    lookupHash: row.lookup_hash,
    kind: row.kind,
    status: row.status,
    accountId: row.account_id ?? '',
    mediumId: row.id,
    birthCheck: row.birth_check ?? '',
    highestCounter: row.last_counter === null ? null : Number(row.last_counter),
  };
}

