import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { tapBody } from '../gate-state/gate-state';

/** A tap as Postgres recorded it: what identifies its body, and the verdict it got. */
export interface RecordedTap {
  deviceId: string;
  tapId: string;
  /** When it happened (epoch ms), as gate.lua's event said. */
  at: number;
  /** tapBody of a QR tap; a medium's tap is identified by its medium, direction and station (the subject comes from Redis). */
  body: string;
  mediumRef: string | null;
  direction: string;
  stationId: string;
  subjectKind: string;
  accountId: string | null;
  verdict: 'accept' | 'reject';
  reason: string;
  valid: boolean;
  journeyId: string | null;
  charge: number;
  /** Pay-as-you-go exits: the fare before caps, as the answer said. */
  fare: number | null;
  /** Pay-as-you-go: the balance after the tap, as its verdict said. */
  balance: number | null;
}

interface TapRow {
  device_id: string;
  tap_id: string;
  occurred_at: Date;
  subject_kind: string;
  ticket_id: string | null;
  account_id: string | null;
  direction: string;
  station_id: string;
  medium_ref: string | null;
  verdict: 'accept' | 'reject';
  reason: string;
  valid: boolean;
  journey_id: string | null;
  charge: string;
  fare: string | null;
  balance: string | null;
}

const COLUMNS = 'device_id, tap_id, occurred_at, subject_kind, ticket_id, account_id, direction, station_id, medium_ref, verdict, reason, valid, journey_id, charge, fare, balance';

/**
 * The record's side of tap identity: Postgres keeps (device, tap id) for good, Redis only for the
 * tap memory. Offline batches reach back 30 days, longer than the tap memory, so the batch route
 * asks the record first (one query per batch; never on the online gate path); the tap recorder asks
 * it about taps whose (device, tap id) it already held (`inTransaction`).
 */
@Injectable()
export class RecordedTaps {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async find(deviceId: string, tapIds: readonly string[]): Promise<Map<string, RecordedTap>> {
    const rows = await this.db.query<TapRow[]>(`SELECT DISTINCT ON (tap_id) ${COLUMNS} FROM taps WHERE device_id = $1 AND tap_id = ANY($2) ORDER BY tap_id, recorded_at`, [deviceId, tapIds]);
    return new Map(rows.map((row) => [row.tap_id, recordedTap(row)]));
  }
}

/** The recorded taps of these (device, tap id) pairs, in the caller's transaction. */
export async function recordedTapsIn(em: EntityManager, keys: ReadonlyArray<{ dev: string; tap: string }>): Promise<RecordedTap[]> {
  const rows = await em.query<TapRow[]>(
    `SELECT ${COLUMNS} FROM taps WHERE (device_id, tap_id) IN (SELECT dev, tap FROM json_to_recordset($1::json) AS k (dev text, tap text))`,
    [JSON.stringify(keys)],
  );
  return rows.map(recordedTap);
}

function recordedTap(row: TapRow): RecordedTap {
  const subject = row.subject_kind === 'payg' ? row.account_id : row.subject_kind === 'free' ? row.medium_ref : row.ticket_id;
  return {
    deviceId: row.device_id,
    tapId: row.tap_id,
    at: row.occurred_at.getTime(),
    body: tapBody(row.subject_kind, subject ?? '', row.direction, row.station_id, row.medium_ref ?? ''),
    mediumRef: row.medium_ref,
    direction: row.direction,
    stationId: row.station_id,
    subjectKind: row.subject_kind,
    accountId: row.account_id,
    verdict: row.verdict,
    reason: row.reason,
    valid: row.valid,
    journeyId: row.journey_id,
    charge: Number(row.charge),
    fare: row.fare === null ? null : Number(row.fare),
    balance: row.balance === null ? null : Number(row.balance),
  };
}
