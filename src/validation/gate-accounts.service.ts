import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { RiderCategories } from '../accounts/rider-categories';
import { AuditLog } from '../audit/audit-log';
import type { AuthUser } from '../common/auth-user';
import { DomainError, NotFoundError } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import { modeBitsOf } from '../fares/domain/fare-calculator';
import { localDayNumber, localDayStartMs, localWeekNumber } from '../fares/domain/local-time';
import type { TransportMode } from '../network/hanoi-network';
import { GateWallet } from '../payments/gate-wallet';
import { Ledger } from '../payments/ledger';
import { AccountGateState } from '../gate-state/account-gate-state';
import { MEDIA_DENYLIST_SQL } from '../media/media.service';
import type { DenylistEntryDto, DenylistPageDto } from './validation.dto';

const REBUILD_BATCH = 500;

interface RebuildRow {
  id: string;
  unpaid: string;
  blocked: boolean;
  day_spent: string;
  day_modes: TransportMode[];
  week_spent: string;
  week_modes: TransportMode[];
}
const DENYLIST_PAGE = 1000;
/** Changes younger than this are left for the next page: a transaction that began earlier may still commit one before them. */
const DENYLIST_SETTLE_MS = 2_000;

/** Accounts at the gates: blocking, rebuilding their Redis state from Postgres, and the denylist feed. */
@Injectable()
export class GateAccountsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: Ledger,
    private readonly state: AccountGateState,
    private readonly gateWallet: GateWallet,
    private readonly audit: AuditLog,
    private readonly riderCategories: RiderCategories,
  ) {}

  /**
   * Blocks (or unblocks) an account's pay-as-you-go QR at every gate, with the staff member's audit
   * entry (reason code and note) in the same transaction; the gates' state follows after it commits.
   */
  async setBlocked(staff: AuthUser, accountId: string, blocked: boolean, why: { reason: string; note: string }): Promise<void> {
    if (!isUuid(accountId)) throw new NotFoundError('Account', accountId);
    await this.db.transaction(async (em) => {
      const [account] = await em.query<Array<{ blocked: boolean | null }>>(
        `SELECT b.blocked FROM accounts a LEFT JOIN gate_account_blocks b ON b.account_id = a.id WHERE a.id = $1 FOR UPDATE OF a`,
        [accountId],
      );
      if (!account) throw new NotFoundError('Account', accountId);
      const note = why.note.trim();
      await em.query(
        `INSERT INTO gate_account_blocks (account_id, blocked, reason) VALUES ($1, $2, $3)
         ON CONFLICT (account_id) DO UPDATE SET blocked = EXCLUDED.blocked, reason = EXCLUDED.reason, changed_at = now()`,
        [accountId, blocked, `${why.reason}: ${note}`],
      );
      await this.audit.record(em, staff, {
        action: blocked ? 'gate.block' : 'gate.unblock',
        subjectKind: 'account',
        subjectId: accountId,
        reason: why.reason,
        note,
        before: { gateBlocked: account.blocked ?? false },
        after: { gateBlocked: blocked },
      });
    });
    await this.state.setBlocked(accountId, blocked);
  }

  /**
   * Restores every passenger account's gate state: its rider category over time, the wallet balance less what the gates charged
   * but the wallet could not cover (where Redis holds no balance), whether it is blocked, and the
   * day's and week's pay-as-you-go spend for the caps, corrected maximum fares at their corrected charge (where Redis holds none).
   */
  async rebuild(progress: (done: number, total: number) => void = () => undefined, now = Date.now()): Promise<number> {
    const [{ count }] = await this.db.query<Array<{ count: string }>>(`SELECT count(*) FROM accounts WHERE role = 'passenger'`);
    const total = Number(count);
    const day = localDayNumber(now);
    const week = localWeekNumber(now);
    // Fare weeks start on a Monday: localWeekNumber counts from the Monday three days before 1970-01-01.
    const weekStart = new Date(localDayStartMs(week * 7 - 3));
    let after = '00000000-0000-0000-0000-000000000000';
    let done = 0;
    for (;;) {
      const rows = await this.db.query<RebuildRow[]>(
        `SELECT a.id,
                coalesce((SELECT sum(j.unpaid) FROM journeys j WHERE j.account_id = a.id::text AND j.unpaid > 0), 0) AS unpaid,
                coalesce(b.blocked, false) AS blocked,
                s.day_spent, s.day_modes, s.week_spent, s.week_modes
           FROM accounts a
           LEFT JOIN gate_account_blocks b ON b.account_id = a.id
           LEFT JOIN LATERAL (
             SELECT coalesce(sum(j.charge - coalesce(c.refunded, 0)) FILTER (WHERE coalesce(j.exited_at, j.timed_out_at, j.entered_at) >= $3), 0) AS day_spent,
                    coalesce(array_agg(DISTINCT l.mode) FILTER (WHERE coalesce(j.exited_at, j.timed_out_at, j.entered_at) >= $3), '{}') AS day_modes,
                    coalesce(sum(j.charge - coalesce(c.refunded, 0)), 0) AS week_spent,
                    coalesce(array_agg(DISTINCT l.mode), '{}') AS week_modes
               FROM journeys j JOIN lines l ON l.id = j.line_id
               -- A corrected maximum fare counts at its corrected charge (one correction per journey).
               LEFT JOIN journey_corrections c ON c.journey_id = j.id
              WHERE j.account_id = a.id::text AND j.subject_kind = 'payg' AND j.status <> 'open' AND coalesce(j.exited_at, j.timed_out_at, j.entered_at) >= $2
           ) s ON true
          WHERE a.role = 'passenger' AND a.id > $1 ORDER BY a.id LIMIT ${REBUILD_BATCH}`,
        [after, weekStart, new Date(localDayStartMs(day))],
      );
      if (rows.length === 0) return done;
      const balances = await Promise.all(rows.map((row) => this.ledger.walletBalance(this.db.manager, row.id)));
      const categories = await this.riderCategories.timelines(rows.map((row) => row.id), now);
      await this.state.restore(
        rows.map((row, index) => ({
          accountId: row.id,
          categories: categories.get(row.id) ?? [],
          balance: balances[index].balance - Number(row.unpaid),
          blocked: row.blocked,
          spend: { day, daySpent: Number(row.day_spent), dayModes: modeBitsOf(row.day_modes), week, weekSpent: Number(row.week_spent), weekModes: modeBitsOf(row.week_modes) },
        })),
      );
      done += rows.length;
      after = rows[rows.length - 1].id;
      progress(done, total);
    }
  }

  /** What the account owes for offline journeys, taken from its wallet as far as it goes (GateWallet.collectOwedFares). */
  collectOwedFares(em: EntityManager, accountId: string): Promise<number> {
    return this.gateWallet.collectOwedFares(em, accountId);
  }

  /** Revoked tickets, blocked or unblocked accounts, media and bank cards (by card id), oldest change first, after the cursor. */
  async denylist(since: string | undefined): Promise<DenylistPageDto> {
    const [afterMicros, afterId] = decodeCursor(since);
    const rows = await this.db.query<
      Array<{ kind: DenylistEntryDto['kind']; id: string; status: DenylistEntryDto['status']; at_us: string; at: Date; medium_kind: string | null; uid: string | null }>
    >(
      `SELECT * FROM (
         SELECT 'ticket' AS kind, id::text AS id, 'revoked' AS status, revoked_at AS at,
                (extract(epoch FROM revoked_at) * 1000000)::bigint AS at_us, NULL AS medium_kind, NULL AS uid
           FROM tickets WHERE revoked_at IS NOT NULL
         UNION ALL
         SELECT 'account', account_id::text, CASE WHEN blocked THEN 'blocked' ELSE 'unblocked' END, changed_at,
                (extract(epoch FROM changed_at) * 1000000)::bigint, NULL, NULL
           FROM gate_account_blocks
         UNION ALL
         SELECT 'bank_card', card_id, CASE WHEN denied THEN 'blocked' ELSE 'unblocked' END, changed_at,
                (extract(epoch FROM changed_at) * 1000000)::bigint, 'bank_card', NULL
           FROM bank_card_denials
         UNION ALL
         ${MEDIA_DENYLIST_SQL}
       ) changes
       WHERE (at_us, id) > ($1::bigint, $2::text) AND at < now() - make_interval(secs => $3)
       ORDER BY at_us, id LIMIT ${DENYLIST_PAGE}`,
      [afterMicros, afterId, DENYLIST_SETTLE_MS / 1000],
    );
    const last = rows[rows.length - 1];
    return {
      entries: rows.map((row) => ({
        kind: row.kind,
        id: row.id,
        status: row.status,
        at: row.at.toISOString(),
        ...(row.medium_kind !== null && { mediumKind: row.medium_kind }),
        ...(row.uid !== null && { uid: row.uid }),
      })),
      cursor: last ? encodeCursor(last.at_us, last.id) : (since ?? encodeCursor('0', '')),
    };
  }
}

function encodeCursor(micros: string, id: string): string {
  return Buffer.from(`${micros}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string | undefined): [string, string] {
  if (cursor === undefined) return ['0', ''];
  const [micros, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  // The id is a ticket's or an account's uuid, a card id (hex), or empty at the start: anything else (a NUL, which
  // Postgres text cannot hold, or another control character) was never a cursor of ours.
  if (!micros || !/^\d{1,18}$/.test(micros) || id === undefined || rest.length > 0 || !/^[0-9a-f-]{0,36}$/.test(id)) {
    throw new DomainError('invalid', 'VALIDATION_FAILED', 'since is not a cursor this feed returned', [{ field: 'since', problem: 'is not a cursor' }]);
  }
  return [micros, id];
}
