import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuthUser } from '../common/auth-user';
import type { AuditEntryDto, ListAuditQuery } from './audit.dto';

/** One action of a support agent, an inspector or an admin. */
export interface AuditAction {
  action: string;
  subjectKind: string;
  subjectId: string;
  /** Why: a reason code. */
  reason: string;
  note?: string;
  before?: object | null;
  after?: object | null;
}

interface AuditRow {
  id: string;
  at: Date;
  actor_id: string;
  actor_role: string;
  actor_operator_id: string | null;
  action: string;
  subject_kind: string;
  subject_id: string;
  reason: string;
  note: string | null;
  before: object | null;
  after: object | null;
}

/**
 * The audit log: who did what to whom, why, and the state before and after. Written in the
 * transaction of the action itself (so there is no action without its entry), read by admins,
 * and append-only in Postgres: a trigger refuses UPDATE, DELETE and TRUNCATE.
 */
@Injectable()
export class AuditLog {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async record(em: EntityManager, actor: AuthUser, entry: AuditAction): Promise<void> {
    await em.query(
      `INSERT INTO audit_log (actor_id, actor_role, actor_operator_id, action, subject_kind, subject_id, reason, note, before, after)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        actor.id,
        actor.role,
        actor.operatorId ?? null,
        entry.action,
        entry.subjectKind,
        entry.subjectId,
        entry.reason,
        entry.note ?? null,
        entry.before === undefined || entry.before === null ? null : JSON.stringify(entry.before),
        entry.after === undefined || entry.after === null ? null : JSON.stringify(entry.after),
      ],
    );
  }

  /** Newest first; optionally one subject's or one actor's entries. */
  async list(query: ListAuditQuery): Promise<AuditEntryDto[]> {
    const rows = await this.db.query<AuditRow[]>(
      `SELECT * FROM audit_log
        WHERE ($1::text IS NULL OR subject_id = $1) AND ($2::text IS NULL OR actor_id = $2)
        ORDER BY id DESC LIMIT $3`,
      [query.subjectId ?? null, query.actorId ?? null, query.limit ?? 50],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      at: row.at.toISOString(),
      actor: { id: row.actor_id, role: row.actor_role, ...(row.actor_operator_id === null ? {} : { operatorId: row.actor_operator_id }) },
      action: row.action,
      subject: { kind: row.subject_kind, id: row.subject_id },
      reason: row.reason,
      ...(row.note === null ? {} : { note: row.note }),
      before: row.before,
      after: row.after,
    }));
  }
}
