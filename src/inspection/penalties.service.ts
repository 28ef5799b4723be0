import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import type { AuthUser } from '../common/auth-user';
import { DomainError, NotFoundError } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import { IdempotencyStore, type IdempotentRequest } from '../payments/idempotency';
import { GateWallet } from '../payments/gate-wallet';
import { Ledger, SYSTEM_LEDGER_ACCOUNTS, type WalletMovement } from '../payments/ledger';
import { PaymentsService, type AfterCommit, type PaymentPurposeSettlement, type PaymentRecord } from '../payments/payments.service';
import type { PayPenaltyDto, PenaltyDecisionDto, PenaltyDto } from './inspection.dto';

/** The penalty fare applied to riders found without a valid ticket or tap (penalty_fares, data). */
const NO_VALID_TICKET = 'no-valid-ticket';

interface PenaltyRow {
  id: string;
  inspection_id: string;
  account_id: string;
  operator_id: string;
  fare_id: string;
  amount: string;
  status: PenaltyDto['status'];
  issued_at: Date;
  paid_at: Date | null;
  dispute_reason: string | null;
}

/**
 * Penalty fares: an inspector issues one for an inspection that found no tap or an invalid medium;
 * the rider pays it from the wallet or through the payment gateway (a ledger transfer to the penalty
 * revenue account, shown per operator in settlement) or disputes it, and a support agent upholds or
 * cancels a dispute. A gateway payment is settled here (`settle`), in the transaction that records it.
 */
@Injectable()
export class PenaltiesService implements PaymentPurposeSettlement {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: Ledger,
    private readonly idempotency: IdempotencyStore,
    private readonly audit: AuditLog,
    private readonly gateWallet: GateWallet,
    private readonly payments: PaymentsService,
  ) {}

  async issue(inspector: AuthUser, inspectionId: string): Promise<PenaltyDto> {
    return this.db.transaction(async (em) => {
      const [inspection] = await em.query<Array<{ result: string; account_id: string | null; operator_id: string }>>(
        `SELECT result, account_id, operator_id FROM inspections WHERE id = $1 FOR UPDATE`,
        [inspectionId],
      );
      if (!inspection || inspection.operator_id !== inspector.operatorId) throw new NotFoundError('Inspection', inspectionId);
      if (inspection.result === 'VALID') throw new DomainError('conflict', 'INSPECTION_VALID', 'The rider had a valid ticket or tap: no penalty');
      if (inspection.account_id === null) throw new DomainError('conflict', 'RIDER_UNKNOWN', 'The medium names no account: issue a paper penalty instead');
      const [fare] = await em.query<Array<{ amount: string }>>(
        `SELECT amount FROM penalty_fares WHERE id = $1 AND effective_from <= now() ORDER BY effective_from DESC LIMIT 1`,
        [NO_VALID_TICKET],
      );
      if (!fare) throw new Error(`no penalty fare ${NO_VALID_TICKET} in force`);
      const [row] = await em.query<PenaltyRow[]>(
        `INSERT INTO penalties (inspection_id, account_id, operator_id, fare_id, amount, status, issued_by, issued_by_device) VALUES ($1, $2, $3, $4, $5, 'issued', $6, $7)
         ON CONFLICT (inspection_id) DO NOTHING RETURNING *`,
        [inspectionId, inspection.account_id, inspection.operator_id, NO_VALID_TICKET, fare.amount, inspector.device ? null : inspector.id, inspector.device ? inspector.id : null],
      );
      if (!row) throw new DomainError('conflict', 'PENALTY_EXISTS', 'A penalty was already issued for this inspection');
      await this.audit.record(em, inspector, { action: 'penalty.issue', subjectKind: 'penalty', subjectId: row.id, reason: NO_VALID_TICKET, before: null, after: toDto(row) });
      return toDto(row);
    });
  }

  async mine(accountId: string): Promise<PenaltyDto[]> {
    const rows = await this.db.query<PenaltyRow[]>(`SELECT * FROM penalties WHERE account_id = $1 ORDER BY issued_at DESC`, [accountId]);
    return rows.map(toDto);
  }

  /**
   * The rider pays the penalty, once per Idempotency-Key: from the wallet at once, or through the
   * gateway (a pending payment to follow, the same one while it is pending; paid when the gateway
   * confirms it). Paying one that is not owed (paid, disputed, cancelled) is 409.
   */
  async pay(accountId: string, penaltyId: string, body: PayPenaltyDto | undefined, request: IdempotentRequest): Promise<PenaltyDto> {
    const moved: WalletMovement[] = [];
    const { response } = await this.gateWallet.orGiveBack(moved, this.db.transaction((em) =>
      this.idempotency.once(em, accountId, request, async () => {
        const penalty = await this.locked(em, penaltyId, accountId);
        if (penalty.status !== 'issued') throw new DomainError('conflict', 'PENALTY_NOT_PAYABLE', `The penalty is ${penalty.status}`);
        if (body?.payWith === 'gateway') {
          const payment =
            (await this.payments.pendingPaymentOfPenalty(em, penalty.id)) ??
            (await this.payments.createPayment(em, { accountId, purpose: 'penalty', penaltyId: penalty.id, amount: Number(penalty.amount) }));
          return { ...toDto(penalty), payment };
        }
        moved.push(...await this.ledger.transfer(em, { kind: 'penalty', reference: penalty.id, from: { wallet: accountId }, to: SYSTEM_LEDGER_ACCOUNTS.penaltyRevenue, amount: Number(penalty.amount) }));
        // Out of the wallet: refused when the gates hold the money (fares not yet recorded, an open journey's maximum fare).
        await this.gateWallet.duringTransaction(em, moved);
        return toDto(await this.markPaid(em, penalty.id));
      }),
    ));
    await this.gateWallet.afterCommit(moved);
    return response;
  }

  /**
   * A gateway payment of a penalty finished (PaymentsService calls this in its transaction): paid, the
   * money goes from the gateway's clearing account to penalty revenue. Had the penalty stopped being
   * owed meanwhile (paid from the wallet, disputed, cancelled), the money goes to the rider's wallet.
   */
  async settle(em: EntityManager, payment: PaymentRecord, outcome: 'succeeded' | 'failed' | 'expired'): Promise<AfterCommit | undefined> {
    if (outcome !== 'succeeded') return undefined;
    const penalty = await this.locked(em, payment.penaltyId ?? '');
    if (penalty.status === 'issued') {
      await this.ledger.transfer(em, { kind: 'penalty', reference: penalty.id, from: SYSTEM_LEDGER_ACCOUNTS.gatewayClearing, to: SYSTEM_LEDGER_ACCOUNTS.penaltyRevenue, amount: payment.amount });
      await this.markPaid(em, penalty.id);
      return undefined;
    }
    const moved = await this.ledger.transfer(em, { kind: 'top_up', reference: payment.id, from: SYSTEM_LEDGER_ACCOUNTS.gatewayClearing, to: { wallet: payment.accountId }, amount: payment.amount });
    await this.gateWallet.duringTransaction(em, moved);
    return () => this.gateWallet.afterCommit(moved);
  }

  private async markPaid(em: EntityManager, penaltyId: string): Promise<PenaltyRow> {
    const [[row]] = await em.query<[PenaltyRow[], number]>(`UPDATE penalties SET status = 'paid', paid_at = now() WHERE id = $1 RETURNING *`, [penaltyId]);
    return row;
  }

  async dispute(accountId: string, penaltyId: string, reason: string): Promise<PenaltyDto> {
    return this.db.transaction(async (em) => {
      const penalty = await this.locked(em, penaltyId, accountId);
      if (penalty.status !== 'issued') throw new DomainError('conflict', 'PENALTY_NOT_DISPUTABLE', `The penalty is ${penalty.status}`);
      const [[row]] = await em.query<[PenaltyRow[], number]>(`UPDATE penalties SET status = 'disputed', dispute_reason = $2 WHERE id = $1 RETURNING *`, [
        penalty.id,
        reason.trim(),
      ]);
      return toDto(row);
    });
  }

  /** A support agent decides a dispute: upheld, the rider owes it again; otherwise it is cancelled. Audited. */
  async decide(agent: AuthUser, penaltyId: string, decision: PenaltyDecisionDto): Promise<PenaltyDto> {
    return this.db.transaction(async (em) => {
      const penalty = await this.locked(em, penaltyId);
      if (agent.operatorId !== undefined && penalty.operator_id !== agent.operatorId) throw new NotFoundError('Penalty', penaltyId);
      if (penalty.status !== 'disputed') throw new DomainError('conflict', 'PENALTY_NOT_DISPUTED', `The penalty is ${penalty.status}`);
      const [[row]] = await em.query<[PenaltyRow[], number]>(`UPDATE penalties SET status = $2 WHERE id = $1 RETURNING *`, [
        penalty.id,
        decision.uphold ? 'issued' : 'cancelled',
      ]);
      await this.audit.record(em, agent, {
        action: decision.uphold ? 'penalty.uphold' : 'penalty.cancel',
        subjectKind: 'penalty',
        subjectId: penalty.id,
        reason: 'penalty_dispute',
        note: decision.note.trim(),
        before: toDto(penalty),
        after: toDto(row),
      });
      return toDto(row);
    });
  }

  private async locked(em: EntityManager, penaltyId: string, accountId?: string): Promise<PenaltyRow> {
    if (!isUuid(penaltyId)) throw new NotFoundError('Penalty', penaltyId);
    const [row] = await em.query<PenaltyRow[]>(`SELECT * FROM penalties WHERE id = $1 FOR UPDATE`, [penaltyId]);
    if (!row || (accountId !== undefined && row.account_id !== accountId)) throw new NotFoundError('Penalty', penaltyId);
    return row;
  }
}

function toDto(row: PenaltyRow): PenaltyDto {
  return {
    id: row.id,
    inspectionId: row.inspection_id,
    accountId: row.account_id,
    operatorId: row.operator_id,
    fareId: row.fare_id,
    amount: Number(row.amount),
    status: row.status,
    issuedAt: new Date(row.issued_at).toISOString(),
    ...(row.paid_at === null ? {} : { paidAt: new Date(row.paid_at).toISOString() }),
    ...(row.dispute_reason === null ? {} : { disputeReason: row.dispute_reason }),
  };
}
