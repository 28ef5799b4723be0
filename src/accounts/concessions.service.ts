import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import type { AuthUser } from '../common/auth-user';
import { DomainError, NotFoundError } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import { isUniqueViolation } from '../database/postgres-errors';
import type { RiderCategory } from '../fares/rider-category';
import type { ClaimConcessionDto, ClaimStatus, ConcessionClaimDto, ConcessionDecisionDto, ListClaimsQuery } from './concessions.dto';
import { localDateAt } from '../fares/domain/local-time';
import { ageOn, CHILD_UNDER_AGE, ELDERLY_FROM_AGE } from './rider-category-rules';
import { RiderCategories } from './rider-categories';

interface ClaimRow {
  id: string;
  account_id: string;
  category: RiderCategory;
  evidence: string;
  date_of_birth: string | null;
  status: ClaimStatus;
  valid_until: Date | null;
  created_at: Date;
  decided_at: Date | null;
  decision_reason: string | null;
}

const CLAIM_COLUMNS = `id, account_id, category, evidence, date_of_birth::text, status, valid_until, created_at, decided_at, decision_reason`;

/** Categories that follow from age: the claim must state the date of birth the evidence shows. */
const AGE_RULES: Partial<Record<RiderCategory, (age: number) => boolean>> = {
  elderly: (age) => age >= ELDERLY_FROM_AGE,
  child: (age) => age < CHILD_UNDER_AGE,
};

@Injectable()
export class ConcessionsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditLog,
    private readonly categories: RiderCategories,
  ) {}

  /** A pending claim; one pending claim per category at a time. */
  async claim(accountId: string, input: ClaimConcessionDto, today = localDateAt(Date.now())): Promise<ConcessionClaimDto> {
    const ageRule = AGE_RULES[input.category];
    if (input.dateOfBirth !== undefined && (input.dateOfBirth > today || input.dateOfBirth < '1900-01-01')) {
      throw invalid('dateOfBirth', 'must be a past date after 1900');
    }
    if (ageRule && input.dateOfBirth === undefined) throw invalid('dateOfBirth', `is required to claim ${input.category}`);
    if (ageRule && input.dateOfBirth !== undefined && !ageRule(ageOn(input.dateOfBirth, today))) {
      throw new DomainError('refused', 'CONCESSION_NOT_ELIGIBLE', `The date of birth does not qualify for ${input.category}`);
    }
    try {
      const [row] = await this.db.query<ClaimRow[]>(
        `INSERT INTO concession_claims (account_id, category, evidence, date_of_birth) VALUES ($1, $2, $3, $4) RETURNING ${CLAIM_COLUMNS}`,
        [accountId, input.category, input.evidence, input.dateOfBirth ?? null],
      );
      return toDto(row);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new DomainError('conflict', 'CONCESSION_CLAIM_PENDING', `A claim for ${input.category} is already waiting for review`);
      }
      throw error;
    }
  }

  async listOwn(accountId: string): Promise<ConcessionClaimDto[]> {
    const rows = await this.db.query<ClaimRow[]>(`SELECT ${CLAIM_COLUMNS} FROM concession_claims WHERE account_id = $1 ORDER BY created_at DESC`, [
      accountId,
    ]);
    return rows.map(toDto);
  }

  /** One of the caller's own claims; another passenger's is indistinguishable from a missing one. */
  async getOwn(accountId: string, claimId: string): Promise<ConcessionClaimDto> {
    if (!isUuid(claimId)) throw new NotFoundError('Concession claim', claimId);
    const [row] = await this.db.query<ClaimRow[]>(`SELECT ${CLAIM_COLUMNS} FROM concession_claims WHERE id = $1 AND account_id = $2`, [
      claimId,
      accountId,
    ]);
    if (!row) throw new NotFoundError('Concession claim', claimId);
    return toDto(row);
  }

  /** Claims to review, oldest first. */
  async listForReview(query: ListClaimsQuery): Promise<ConcessionClaimDto[]> {
    const rows = await this.db.query<ClaimRow[]>(`SELECT ${CLAIM_COLUMNS} FROM concession_claims WHERE status = $1 ORDER BY created_at, id LIMIT $2`, [
      query.status ?? 'pending',
      query.limit ?? 50,
    ]);
    return rows.map(toDto);
  }

  /**
   * Approves or rejects a pending claim. Approving a claim that states a date of birth makes it the
   * account's verified date of birth, from which age-based categories follow on their own. The gates'
   * copy of the account's category (its cards ride at it) follows after the commit.
   */
  async decide(admin: AuthUser, claimId: string, decision: ConcessionDecisionDto, now = new Date()): Promise<ConcessionClaimDto> {
    const decided = await this.record(admin, claimId, decision, now);
    if (decided.status === 'approved') await this.categories.publish([decided.accountId]);
    return decided;
  }

  private async record(admin: AuthUser, claimId: string, decision: ConcessionDecisionDto, now: Date): Promise<ConcessionClaimDto> {
    if (decision.validUntil !== undefined) {
      if (!decision.approve) throw invalid('validUntil', 'applies to approvals only');
      if (new Date(decision.validUntil) <= now) throw invalid('validUntil', 'must be in the future');
    }
    if (!isUuid(claimId)) throw new NotFoundError('Concession claim', claimId);
    return this.db.transaction(async (tx) => {
      const [claim] = await tx.query<ClaimRow[]>(`SELECT ${CLAIM_COLUMNS} FROM concession_claims WHERE id = $1 FOR UPDATE`, [claimId]);
      if (!claim) throw new NotFoundError('Concession claim', claimId);
      if (claim.status !== 'pending') throw new DomainError('conflict', 'CONCESSION_ALREADY_DECIDED', `The claim was already ${claim.status}`);
      // TypeORM answers an UPDATE with [rows, count].
      const [[decided]] = await tx.query<[ClaimRow[], number]>(
        `UPDATE concession_claims SET status = $2, valid_until = $3, decided_by = $4, decided_at = now(), decision_reason = $5
          WHERE id = $1 RETURNING ${CLAIM_COLUMNS}`,
        [claimId, decision.approve ? 'approved' : 'rejected', decision.validUntil ?? null, admin.id, decision.reason ?? null],
      );
      if (decision.approve && claim.date_of_birth !== null) {
        await tx.query('UPDATE accounts SET verified_date_of_birth = $2 WHERE id = $1', [claim.account_id, claim.date_of_birth]);
      }
      const before = toDto(claim);
      const after = toDto(decided);
      await this.audit.record(tx, admin, {
        action: decision.approve ? 'concession.approved' : 'concession.rejected',
        subjectKind: 'concession_claim',
        subjectId: claimId,
        reason: decision.approve ? 'concession_approved' : 'concession_rejected',
        ...(decision.reason === undefined ? {} : { note: decision.reason }),
        before: { status: before.status, category: before.category, accountId: before.accountId },
        after: { status: after.status, category: after.category, accountId: after.accountId, ...(after.validUntil === undefined ? {} : { validUntil: after.validUntil }) },
      });
      return after;
    });
  }
}

function invalid(field: string, problem: string): DomainError {
  return new DomainError('invalid', 'VALIDATION_FAILED', 'The request is not valid', [{ field, problem }]);
}

function toDto(row: ClaimRow): ConcessionClaimDto {
  return {
    id: row.id,
    accountId: row.account_id,
    category: row.category,
    evidence: row.evidence,
    ...(row.date_of_birth === null ? {} : { dateOfBirth: row.date_of_birth }),
    status: row.status,
    ...(row.valid_until === null ? {} : { validUntil: row.valid_until.toISOString() }),
    createdAt: row.created_at.toISOString(),
    ...(row.decided_at === null ? {} : { decidedAt: row.decided_at.toISOString() }),
    ...(row.decision_reason === null ? {} : { decisionReason: row.decision_reason }),
  };
}
