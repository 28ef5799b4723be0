import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AccountsService } from '../accounts/accounts.service';
import { normaliseEmail } from '../accounts/email';
import { AuditLog } from '../audit/audit-log';
import type { AuthUser } from '../common/auth-user';
import { DomainError, NotFoundError } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import { JourneysService } from '../journeys/journeys.service';
import type { JourneyDto, ListJourneysQuery } from '../journeys/journeys.dto';
import { IdempotencyStore, type IdempotentRequest } from '../payments/idempotency';
import { GateWallet } from '../payments/gate-wallet';
import { Ledger, SYSTEM_LEDGER_ACCOUNTS, type WalletMovement } from '../payments/ledger';
import { MediaService } from '../media/media.service';
import { QrVerifier } from '../validation/qr-verifier';
import { GateAccountsService } from '../validation/gate-accounts.service';
import type { MediumDto } from '../media/media.dto';
import type { AdjustmentDto, AdjustWalletDto, FindAccountQuery, MediumReplacementDto, SupportAccountDto, SupportGateBlockDto, SupportMediumBlockDto, SupportMediumReplacementDto } from './support.dto';

interface AccountRow {
  id: string;
  created_at: Date;
  gate_blocked: boolean;
}

/**
 * Customer service: find a rider by email or by the medium they hold (verified and resolved here;
 * an agent is never shown a medium's content), read their journeys, and move money into or out of
 * their wallet as balanced ledger entries, each with a reason, a note and an audit entry.
 * An agent bound to an operator sees that operator's journeys only, and settlement charges their adjustments to it.
 */
@Injectable()
export class SupportService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly journeys: JourneysService,
    private readonly ledger: Ledger,
    private readonly idempotency: IdempotencyStore,
    private readonly audit: AuditLog,
    private readonly qr: QrVerifier,
    private readonly accounts: AccountsService,
    private readonly gateAccounts: GateAccountsService,
    private readonly gateWallet: GateWallet,
    private readonly media: MediaService,
  ) {}

  async find(query: FindAccountQuery): Promise<SupportAccountDto> {
    if ((query.email === undefined) === (query.medium === undefined)) {
      throw new DomainError('invalid', 'VALIDATION_FAILED', 'Give either email or medium', [{ field: 'email', problem: 'give either email or medium, not both or neither' }]);
    }
    if (query.email !== undefined) {
      const [row] = await this.db.query<Array<{ id: string }>>(`SELECT id FROM accounts WHERE email = $1 AND role = 'passenger'`, [normaliseEmail(query.email)]);
      if (!row) throw new NotFoundError('Account', query.email);
      return { ...(await this.account(row.id)), foundBy: 'email' };
    }
    if (!query.medium!.includes('.')) {
      const held = await this.media.holderOf(query.medium!);
      if (!held) throw new DomainError('not_found', 'NOT_FOUND', 'No account holds that medium');
      return { ...(await this.account(held.accountId)), foundBy: 'medium', mediumKind: held.kind, mediumId: held.mediumId };
    }
    const check = this.qr.check(query.medium!);
    if (!check.ok) throw new DomainError('not_found', 'NOT_FOUND', 'No account holds that medium');
    if (check.claims.kind === 'payg') return { ...(await this.account(check.claims.sub)), foundBy: 'medium', mediumKind: 'pay_as_you_go' };
    const [ticket] = isUuid(check.claims.sub) ? await this.db.query<Array<{ account_id: string }>>(`SELECT account_id FROM tickets WHERE id = $1`, [check.claims.sub]) : [];
    if (!ticket) throw new DomainError('not_found', 'NOT_FOUND', 'No account holds that medium');
    return { ...(await this.account(ticket.account_id)), foundBy: 'medium', mediumKind: 'ticket', ticketId: check.claims.sub };
  }

  async history(agent: AuthUser, accountId: string, query: ListJourneysQuery): Promise<JourneyDto[]> {
    await this.account(accountId);
    return this.journeys.history(accountId, query, this.db.manager, agent.operatorId);
  }

  /** Money into or out of the wallet from the scheme's adjustments account, once per Idempotency-Key, with its audit entry. */
  async adjust(agent: AuthUser, accountId: string, body: AdjustWalletDto, request: IdempotentRequest): Promise<AdjustmentDto> {
    await this.account(accountId);
    const moved: WalletMovement[] = [];
    const { response } = await this.gateWallet.orGiveBack(moved, this.db.transaction((em) =>
      this.idempotency.once(em, agent.id, request, async () => {
        const before = (await this.ledger.walletBalance(em, accountId)).balance;
        const [row] = await em.query<Array<{ id: string; created_at: Date }>>(
          `INSERT INTO support_adjustments (account_id, agent_id, operator_id, amount, reason_code, note) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`,
          [accountId, agent.id, agent.operatorId ?? null, body.amount, body.reason, body.note.trim()],
        );
        const wallet = { wallet: accountId };
        const scheme = SYSTEM_LEDGER_ACCOUNTS.adjustments;
        moved.push(...await this.ledger.transfer(em, {
          kind: 'adjustment',
          reference: row.id,
          from: body.amount > 0 ? scheme : wallet,
          to: body.amount > 0 ? wallet : scheme,
          amount: Math.abs(body.amount),
        }));
        await this.gateWallet.duringTransaction(em, moved);
        const after = (await this.ledger.walletBalance(em, accountId)).balance;
        await this.audit.record(em, agent, {
          action: 'wallet.adjustment',
          subjectKind: 'account',
          subjectId: accountId,
          reason: body.reason,
          note: body.note.trim(),
          before: { balance: before },
          after: { balance: after, adjustmentId: row.id, amount: body.amount },
        });
        return {
          id: row.id,
          accountId,
          amount: body.amount,
          reason: body.reason,
          note: body.note.trim(),
          balanceBefore: before,
          balanceAfter: after,
          ...(agent.operatorId === undefined ? {} : { operatorId: agent.operatorId }),
          createdAt: row.created_at.toISOString(),
        } satisfies AdjustmentDto;
      }),
    ));
    await this.gateWallet.afterCommit(moved);
    return response;
  }

  /**
   * Blocks (or unblocks) the rider's pay-as-you-go QR at every gate, through the gate path's own
   * service (the deny list and the gates' state follow), and records who, why, before and after.
   */
  async setGateBlock(agent: AuthUser, accountId: string, body: SupportGateBlockDto): Promise<SupportAccountDto> {
    await this.account(accountId);
    await this.gateAccounts.setBlocked(agent, accountId, body.blocked, { reason: body.reason, note: body.note });
    return this.account(accountId);
  }

  /** The rider's media, through the media module (labels only: a medium's number is never kept). */
  async mediaOf(accountId: string): Promise<MediumDto[]> {
    await this.account(accountId);
    return this.media.list(accountId);
  }

  /**
   * Blocks one of the rider's media through the media module's own block (the gates and the deny list
   * follow), with the agent's reason code and note in its audit entry. Media are the scheme's, not an
   * operator's: an agent bound to an operator may block them too.
   */
  async blockMedium(agent: AuthUser, accountId: string, mediumId: string, body: SupportMediumBlockDto): Promise<MediumDto> {
    await this.account(accountId);
    return this.media.setBlocked(agent, mediumId, true, body.note.trim(), { accountId, reasonCode: body.reason });
  }

  /** Replaces one of the rider's media with a transit card handed over at the counter (the media module's replaceWithCard), audited. */
  async replaceMedium(agent: AuthUser, accountId: string, mediumId: string, body: SupportMediumReplacementDto): Promise<MediumReplacementDto> {
    await this.account(accountId);
    return this.media.replaceWithCard(agent, accountId, mediumId, body.uid, { reasonCode: body.reason, note: body.note.trim() });
  }

  private async account(accountId: string): Promise<Omit<SupportAccountDto, 'foundBy'>> {
    if (!isUuid(accountId)) throw new NotFoundError('Account', accountId);
    const [row] = await this.db.query<AccountRow[]>(
      `SELECT a.id, a.created_at, coalesce(b.blocked, false) AS gate_blocked
         FROM accounts a LEFT JOIN gate_account_blocks b ON b.account_id = a.id WHERE a.id = $1 AND a.role = 'passenger'`,
      [accountId],
    );
    if (!row) throw new NotFoundError('Account', accountId);
    const profile = await this.accounts.profile(accountId);
    return {
      id: row.id,
      email: profile.email,
      fullName: profile.fullName,
      riderCategory: profile.riderCategory,
      balance: profile.balance,
      currency: profile.currency,
      gateBlocked: row.gate_blocked,
      createdAt: row.created_at.toISOString(),
    };
  }
}
