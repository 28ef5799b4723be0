import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError, NotFoundError } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import { IdempotencyStore, type IdempotentRequest } from '../payments/idempotency';
import { CardCharges } from './card-charges';
import { CardTokens, cardLabel } from './card-tokens';
import type { BankCardDto, DebtDto } from './bank-cards.dto';

interface DebtRow {
  id: string;
  card_id: string;
  local_day: string;
  amount: string;
  status: string;
  attempts: number;
  retries: number;
  decline_code: string | null;
  first_declined_at: Date;
  next_retry_at: Date | null;
  captured_at: Date | null;
}

const DEBT_COLUMNS = `c.id, c.card_id, c.local_day::text AS local_day, c.amount, c.status, c.attempts, c.retries, c.decline_code,
  c.first_declined_at, c.next_retry_at, c.captured_at`;

/**
 * A rider's side of bank cards: linking a card to the account (its journeys, debts and concessions
 * then follow the account), the debts of linked cards (declined charges not yet paid), and paying
 * one at once, which asks the acquirer again outside the retry schedule.
 */
@Injectable()
export class CardDebts {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly tokens: CardTokens,
    private readonly charges: CardCharges,
    private readonly idempotency: IdempotencyStore,
  ) {}

  /** Links the card to the account (again: nothing changes); a card linked to another account is 409. */
  async link(accountId: string, token: string): Promise<BankCardDto> {
    if (!this.tokens.enabled) throw new DomainError('conflict', 'BANK_CARDS_OFF', 'Bank cards are not taken here');
    const cardId = this.tokens.idOf(token);
    const [row] = await this.db.query<Array<{ id: string; account_id: string; label: string; linked_at: Date }>>(
      `INSERT INTO bank_cards (id, sealed_token, label, account_id, linked_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (id) DO UPDATE SET account_id = EXCLUDED.account_id, linked_at = EXCLUDED.linked_at, sealed_token = EXCLUDED.sealed_token
         WHERE bank_cards.account_id IS NULL
       RETURNING id, account_id, label, linked_at`,
      [cardId, this.tokens.seal(token), cardLabel(cardId), accountId],
    );
    const card = row ?? (await this.db.query<Array<{ id: string; account_id: string; label: string; linked_at: Date }>>(`SELECT id, account_id, label, linked_at FROM bank_cards WHERE id = $1`, [cardId]))[0];
    if (card.account_id !== accountId) throw new DomainError('conflict', 'MEDIUM_LINKED_ELSEWHERE', 'This card is linked to another account');
    const [denial] = await this.db.query<Array<{ denied: boolean }>>(`SELECT denied FROM bank_card_denials WHERE card_id = $1`, [cardId]);
    return { id: card.id, kind: 'bank_card', status: denial?.denied ? 'blocked' : 'active', label: card.label, createdAt: card.linked_at.toISOString() };
  }

  /** Declined charges of the account's cards not paid yet, oldest first. */
  async debts(accountId: string): Promise<DebtDto[]> {
    const rows = await this.db.query<DebtRow[]>(
      `SELECT ${DEBT_COLUMNS} FROM bank_card_charges c JOIN bank_cards b ON b.id = c.card_id
        WHERE b.account_id = $1 AND c.first_declined_at IS NOT NULL AND c.status <> 'captured'
        ORDER BY c.local_day, c.sequence`,
      [accountId],
    );
    return rows.map(toDebt);
  }

  /**
   * Pays a debt now: the acquirer is asked again on the card. Paid, the card leaves the deny list
   * if it owes nothing else. Declined again: 422 CARD_DECLINED, and nothing is kept under the key.
   */
  async pay(accountId: string, debtId: string, request: IdempotentRequest): Promise<DebtDto> {
    const owned = await this.owned(accountId, debtId);
    const { response } = await this.db.transaction((em) =>
      this.idempotency.once(em, accountId, request, async () => {
        if (owned.status !== 'captured' && (await this.charges.attempt(debtId, 'rider')) !== 'captured') {
          throw new DomainError('refused', 'CARD_DECLINED', 'The card was declined again: the debt is still owed');
        }
        return toDebt(await this.owned(accountId, debtId));
      }),
    );
    return response;
  }

  private async owned(accountId: string, debtId: string): Promise<DebtRow> {
    if (!isUuid(debtId)) throw new NotFoundError('Debt', debtId);
    const [row] = await this.db.query<DebtRow[]>(
      `SELECT ${DEBT_COLUMNS} FROM bank_card_charges c JOIN bank_cards b ON b.id = c.card_id
        WHERE c.id = $1 AND b.account_id = $2 AND c.first_declined_at IS NOT NULL`,
      [debtId, accountId],
    );
    if (!row) throw new NotFoundError('Debt', debtId);
    return row;
  }
}

function toDebt(row: DebtRow): DebtDto {
  return {
    id: row.id,
    cardId: row.card_id,
    label: cardLabel(row.card_id),
    day: row.local_day,
    amount: Number(row.amount),
    currency: 'VND',
    status: row.status === 'captured' ? 'paid' : 'unpaid',
    declineCode: row.decline_code ?? 'declined',
    declinedAt: row.first_declined_at.toISOString(),
    attempts: row.attempts,
    retries: row.retries,
    ...(row.next_retry_at && row.status !== 'captured' && { nextRetryAt: row.next_retry_at.toISOString() }),
    ...(row.captured_at && { paidAt: row.captured_at.toISOString() }),
  };
}
