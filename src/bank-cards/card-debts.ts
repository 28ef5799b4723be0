import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError, NotFoundError } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import { IdempotencyStore, type IdempotentRequest } from '../payments/idempotency';
import { CardGateState, type CardGateRecord } from '../gate-state/card-gate-state';
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

interface LinkedCardRow {
  id: string;
  account_id: string | null;
  rider_category: string | null;
  label: string;
  linked_at: Date | null;
  denied: boolean;
}

const LINKED_CARD_COLUMNS = `b.id, b.account_id, b.rider_category, b.label, b.linked_at,
  coalesce((SELECT d.denied FROM bank_card_denials d WHERE d.card_id = b.id), false) AS denied`;
const REBUILD_BATCH = 1000;

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
    private readonly gate: CardGateState,
  ) {}

  /**
   * Links the card to the account, at the account's rider category (again by the same account: the
   * category is refreshed); a card linked to another account is 409. From then on the gates take the
   * card as the account's pay as you go: its journeys are the account's, its caps shared with the
   * account's other media, its fares at the rider's category, and still charged to the card.
   */
  async link(accountId: string, token: string, riderCategory: string): Promise<BankCardDto> {
    if (!this.tokens.enabled) throw new DomainError('conflict', 'BANK_CARDS_OFF', 'Bank cards are not taken here');
    const cardId = this.tokens.idOf(token);
    const [card] = await this.db.query<LinkedCardRow[]>(
      `INSERT INTO bank_cards AS b (id, sealed_token, label, account_id, linked_at, rider_category) VALUES ($1, $2, $3, $4, now(), $5)
       ON CONFLICT (id) DO UPDATE SET account_id = EXCLUDED.account_id, linked_at = coalesce(b.linked_at, EXCLUDED.linked_at),
         sealed_token = EXCLUDED.sealed_token, rider_category = EXCLUDED.rider_category
         WHERE b.account_id IS NULL OR b.account_id = EXCLUDED.account_id
       RETURNING ${LINKED_CARD_COLUMNS}`,
      [cardId, this.tokens.seal(token), cardLabel(cardId), accountId, riderCategory],
    );
    if (!card) throw new DomainError('conflict', 'MEDIUM_LINKED_ELSEWHERE', 'This card is linked to another account');
    // Only the link: the card's deny-list state is the charges' to write (a decline may be landing now).
    await this.gate.link(cardId, accountId, riderCategory);
    return bankCardDto(card);
  }

  /** The account's linked cards, oldest link first. */
  async cards(accountId: string): Promise<BankCardDto[]> {
    const rows = await this.db.query<LinkedCardRow[]>(`SELECT ${LINKED_CARD_COLUMNS} FROM bank_cards b WHERE b.account_id = $1 ORDER BY b.linked_at, b.id`, [accountId]);
    return rows.map(bankCardDto);
  }

  /** Writes every card the service knows into the gates' state (the gate state's rebuild); returns how many. */
  async rebuildGateState(): Promise<number> {
    let after = '';
    let done = 0;
    for (;;) {
      const rows = await this.db.query<LinkedCardRow[]>(`SELECT ${LINKED_CARD_COLUMNS} FROM bank_cards b WHERE b.id > $1 ORDER BY b.id LIMIT ${REBUILD_BATCH}`, [after]);
      if (rows.length === 0) return done;
      await this.gate.put(rows.map(gateRecord));
      done += rows.length;
      after = rows[rows.length - 1].id;
    }
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

function gateRecord(row: LinkedCardRow): CardGateRecord {
  return { cardId: row.id, denied: row.denied, accountId: row.account_id ?? '', riderCategory: row.rider_category ?? '' };
}

function bankCardDto(row: LinkedCardRow): BankCardDto {
  return { id: row.id, kind: 'bank_card', status: row.denied ? 'blocked' : 'active', label: row.label, createdAt: (row.linked_at ?? new Date(0)).toISOString() };
}
