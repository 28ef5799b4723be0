import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import type { AuthUser } from '../common/auth-user';
import { DomainError, NotFoundError } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { localDayStartMs } from '../fares/domain/local-time';
import type { RiderCategory } from '../fares/rider-category';
import type { TransportMode } from '../network/hanoi-network';
import { IdempotencyStore, type IdempotentRequest } from '../payments/idempotency';
import { GateWallet } from '../payments/gate-wallet';
import { Ledger, SYSTEM_LEDGER_ACCOUNTS, type WalletMovement } from '../payments/ledger';
import { RedisRetries } from '../redis/redis-retries';
import { dayNumberOfDate, type PricedItem } from './order-pricing';
import { renderQr, type RenderedQr } from './qr-image';
import { QrTokens } from './qr-tokens';
import { TicketStateStore, type TicketState } from '../gate-state/ticket-state.store';
import type { ListTicketsQuery, QrFormat, TicketDto, TicketStatus } from './tickets.dto';

export interface TicketRow {
  id: string;
  order_id: string;
  account_id: string;
  product_id: string;
  product_version_id: string;
  kind: 'single' | 'pass';
  rider_category: RiderCategory;
  price: string;
  modes: TransportMode[];
  line_ids: string[] | null;
  origin_station_id: string | null;
  destination_station_id: string | null;
  validity_days: number | null;
  activation: 'fixed' | 'first_use';
  valid_from: Date | null;
  valid_until: Date | null;
  first_use_by: Date | null;
  status: TicketStatus;
  first_used_at: Date | null;
  state_version: number;
  issued_at: Date;
  refunded_at: Date | null;
  revoked_at: Date | null;
}

/** What a paid order issues tickets for. */
export interface PaidOrder {
  id: string;
  accountId: string;
  riderCategory: RiderCategory;
  items: readonly PricedItem[];
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const REBUILD_BATCH = 1000;

/** Issues tickets (in the paying transaction), shows them, refunds and revokes them, and keeps the gates' copy in step. */
@Injectable()
export class TicketsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ledger: Ledger,
    private readonly idempotency: IdempotencyStore,
    private readonly qrTokens: QrTokens,
    private readonly states: TicketStateStore,
    private readonly redisRetries: RedisRetries,
    private readonly gateWallet: GateWallet,
    private readonly audit: AuditLog,
  ) {}

  /** The tickets a paid order buys, written with the transaction that pays for them. */
  async issue(em: EntityManager, order: PaidOrder): Promise<TicketRow[]> {
    const now = Date.now();
    const issued: TicketRow[] = [];
    for (const item of order.items) {
      const validity = this.validityOf(item, now);
      for (let copy = 0; copy < item.quantity; copy++) {
        const [row] = await em.query<TicketRow[]>(
          `INSERT INTO tickets (order_id, order_position, account_id, product_id, product_version_id, kind, rider_category, price, modes, line_ids,
             origin_station_id, destination_station_id, fare_rule_id, validity_days, activation, valid_from, valid_until, first_use_by, status, issued_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 'active', $19) RETURNING *`,
          [
            order.id,
            issued.length,
            order.accountId,
            item.productId,
            item.productVersionId,
            item.kind,
            order.riderCategory,
            item.unitPrice,
            item.modes,
            item.lineIds,
            item.originStationId,
            item.destinationStationId,
            item.fareRuleId,
            item.validityDays,
            validity.activation,
            validity.valid_from,
            validity.valid_until,
            validity.first_use_by,
            new Date(now),
          ],
        );
        issued.push(row);
      }
    }
    return issued;
  }

  /**
   * Tells the gates, after the commit; retried until Redis takes it (a ticket sold while Redis was down
   * would otherwise be refused at every gate until `npm run rebuild-gate-state`). Writes are versioned:
   * a late retry never overwrites a newer state.
   */
  async publish(tickets: readonly TicketRow[]): Promise<void> {
    if (tickets.length === 0) return;
    const states = tickets.map(toTicketState);
    await this.redisRetries.write(`the gate state of tickets ${tickets.map((ticket) => ticket.id).join(', ')}`, () => this.states.write(states));
  }

  async ticketsOfOrder(em: EntityManager, orderId: string): Promise<TicketDto[]> {
    const rows = await em.query<TicketRow[]>(`SELECT * FROM tickets WHERE order_id = $1 ORDER BY order_position`, [orderId]);
    return rows.map(toTicketDto);
  }

  async list(accountId: string, query: ListTicketsQuery): Promise<TicketDto[]> {
    const rows = await this.db.query<TicketRow[]>(
      `SELECT * FROM tickets WHERE account_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY issued_at DESC, order_id, order_position LIMIT $3`,
      [accountId, query.status ?? null, query.limit ?? 50],
    );
    return rows.map(toTicketDto);
  }

  async get(accountId: string, ticketId: string): Promise<TicketDto> {
    return toTicketDto(await this.ownTicket(this.db.manager, accountId, ticketId, false));
  }

  /**
   * An unused ticket's price back to the wallet. The gates are told first (a Lua script takes the
   * ticket out of their reach unless one has already used it), so a tap racing the refund cannot
   * both ride and be refunded; if the refund then fails, the gates get the ticket back.
   */
  async refund(accountId: string, ticketId: string, request: IdempotentRequest): Promise<TicketDto> {
    const progress: { claimed: boolean; refunded: TicketRow[]; moved: WalletMovement[] } = { claimed: false, refunded: [], moved: [] };
    try {
      const { response } = await this.db.transaction((em) =>
        this.idempotency.once(em, accountId, request, async () => {
          const ticket = await this.ownTicket(em, accountId, ticketId, true);
          assertRefundable(ticket, Date.now());
          const claim = await this.states.claimForRefund(ticket.id);
          if (claim === 'used') throw alreadyUsed(ticket.id);
          progress.claimed = claim !== 'missing';
          const price = Number(ticket.price);
          if (price > 0) {
            const movements = await this.ledger.transfer(em, { kind: 'refund', reference: ticket.id, from: SYSTEM_LEDGER_ACCOUNTS.ticketSales, to: { wallet: accountId }, amount: price });
            await this.gateWallet.duringTransaction(em, movements);
            progress.moved = movements;
          }
          const [rows] = await em.query<[TicketRow[], number]>(
            `UPDATE tickets SET status = 'refunded', refunded_at = now(), state_version = state_version + 1 WHERE id = $1 RETURNING *`,
            [ticket.id],
          );
          progress.refunded = rows;
          return toTicketDto(rows[0]);
        }),
      );
      await this.gateWallet.afterCommit(progress.moved);
      await this.publish(progress.refunded);
      return response;
    } catch (error) {
      if (progress.claimed) await this.republish(ticketId);
      throw error;
    }
  }

  /** An admin takes a ticket out of use (fraud, a lost phone): gates refuse it from now on. Nothing is refunded. */
  async revoke(admin: AuthUser, ticketId: string, reason: string): Promise<TicketDto> {
    const ticket = await this.db.transaction(async (em) => {
      const current = await this.lockedTicket(em, ticketId);
      if (current.status === 'refunded') throw new DomainError('conflict', 'TICKET_NOT_ACTIVE', `Ticket ${ticketId} was refunded`);
      const [[revoked]] =
        current.status === 'revoked'
          ? [[current]]
          : await em.query<[TicketRow[], number]>(
              `UPDATE tickets SET status = 'revoked', revoked_at = now(), revoked_reason = $2, state_version = state_version + 1 WHERE id = $1 RETURNING *`,
              [ticketId, reason.trim()],
            );
      await this.audit.record(em, admin, {
        action: 'ticket.revoked',
        subjectKind: 'ticket',
        subjectId: ticketId,
        reason: 'ticket_revocation',
        note: reason.trim(),
        before: { status: current.status, accountId: current.account_id },
        after: { status: revoked.status, accountId: revoked.account_id },
      });
      return revoked;
    });
    await this.publish([ticket]);
    return toTicketDto(ticket);
  }

  async ticketQr(accountId: string, ticketId: string, format: QrFormat): Promise<RenderedQr> {
    const ticket = await this.ownTicket(this.db.manager, accountId, ticketId, false);
    if (ticket.status !== 'active') throw new DomainError('conflict', 'TICKET_NOT_ACTIVE', `Ticket ${ticketId} is ${ticket.status}`);
    const token = this.qrTokens.forTicket(
      {
        ticketId: ticket.id,
        kind: ticket.kind,
        riderCategory: ticket.rider_category,
        modes: ticket.modes,
        lineIds: ticket.line_ids,
        originStationId: ticket.origin_station_id,
        destinationStationId: ticket.destination_station_id,
        validFrom: ticket.valid_from,
        validUntil: ticket.valid_until,
        validityDays: ticket.validity_days,
        firstUseBy: ticket.first_use_by,
      },
      new Date(),
    );
    return renderQr(token, format);
  }

  async accountQr(accountId: string, riderCategory: RiderCategory, categoryEndsAt: number | null, format: QrFormat): Promise<RenderedQr> {
    return renderQr(this.qrTokens.forAccount(accountId, riderCategory, new Date(), categoryEndsAt), format);
  }

  /** Rewrites the gate state of every ticket that can still be used or refused, from Postgres. */
  async rebuildGateState(): Promise<number> {
    let after = '00000000-0000-0000-0000-000000000000';
    let written = 0;
    for (;;) {
      const rows = await this.db.query<TicketRow[]>(
        `SELECT * FROM tickets
          WHERE id > $1 AND coalesce(valid_until, first_use_by + validity_days * interval '1 day') > now() - interval '7 days'
          ORDER BY id LIMIT ${REBUILD_BATCH}`,
        [after],
      );
      if (rows.length === 0) return written;
      await this.states.write(rows.map(toTicketState));
      written += rows.length;
      after = rows[rows.length - 1].id;
    }
  }

  private validityOf(item: PricedItem, now: number): Pick<TicketRow, 'activation' | 'valid_from' | 'valid_until' | 'first_use_by'> {
    if (item.kind === 'single') {
      return { activation: 'fixed', valid_from: new Date(now), valid_until: new Date(now + this.config.tickets.singleTripValidityHours * HOUR_MS), first_use_by: null };
    }
    if (item.validFrom !== null) {
      const day = dayNumberOfDate(item.validFrom);
      return { activation: 'fixed', valid_from: new Date(localDayStartMs(day)), valid_until: new Date(localDayStartMs(day + item.validityDays!)), first_use_by: null };
    }
    return { activation: 'first_use', valid_from: null, valid_until: null, first_use_by: new Date(now + this.config.tickets.passStartWithinDays * DAY_MS) };
  }

  private async ownTicket(em: EntityManager, accountId: string, ticketId: string, lock: boolean): Promise<TicketRow> {
    if (!isUuid(ticketId)) throw new NotFoundError('Ticket', ticketId);
    const [row] = await em.query<TicketRow[]>(`SELECT * FROM tickets WHERE id = $1 AND account_id = $2${lock ? ' FOR UPDATE' : ''}`, [ticketId, accountId]);
    // Another passenger's ticket is as absent as one that does not exist.
    if (!row) throw new NotFoundError('Ticket', ticketId);
    return row;
  }

  private async lockedTicket(em: EntityManager, ticketId: string): Promise<TicketRow> {
    if (!isUuid(ticketId)) throw new NotFoundError('Ticket', ticketId);
    const [row] = await em.query<TicketRow[]>(`SELECT * FROM tickets WHERE id = $1 FOR UPDATE`, [ticketId]);
    if (!row) throw new NotFoundError('Ticket', ticketId);
    return row;
  }

  private async republish(ticketId: string): Promise<void> {
    const rows = await this.db.query<TicketRow[]>(`SELECT * FROM tickets WHERE id = $1`, [ticketId]);
    await this.publish(rows);
  }
}

function assertRefundable(ticket: TicketRow, now: number): void {
  if (ticket.status !== 'active') throw new DomainError('conflict', 'TICKET_NOT_ACTIVE', `Ticket ${ticket.id} is ${ticket.status}`);
  if (ticket.first_used_at !== null) throw alreadyUsed(ticket.id);
  const end = ticket.valid_until ?? ticket.first_use_by;
  if (end !== null && end.getTime() <= now) throw new DomainError('conflict', 'TICKET_EXPIRED', `Ticket ${ticket.id} expired unused`);
}

function alreadyUsed(ticketId: string): DomainError {
  return new DomainError('conflict', 'TICKET_ALREADY_USED', `Ticket ${ticketId} has been used; only unused tickets are refunded`);
}

function toTicketState(row: TicketRow): TicketState {
  return {
    ticketId: row.id,
    version: row.state_version,
    status: row.status,
    kind: row.kind,
    accountId: row.account_id,
    riderCategory: row.rider_category,
    modes: row.modes,
    lineIds: row.line_ids,
    originStationId: row.origin_station_id,
    destinationStationId: row.destination_station_id,
    activation: row.activation,
    validFrom: row.valid_from,
    validUntil: row.valid_until,
    validityDays: row.validity_days,
    firstUseBy: row.first_use_by,
    firstUsedAt: row.first_used_at,
  };
}

export function toTicketDto(row: TicketRow): TicketDto {
  return {
    id: row.id,
    orderId: row.order_id,
    productId: row.product_id,
    productVersionId: row.product_version_id,
    kind: row.kind,
    status: row.status,
    riderCategory: row.rider_category,
    price: Number(row.price),
    currency: 'VND',
    modes: row.modes,
    lineIds: row.line_ids,
    ...(row.origin_station_id !== null && { originStationId: row.origin_station_id }),
    ...(row.destination_station_id !== null && { destinationStationId: row.destination_station_id }),
    activation: row.activation,
    ...(row.valid_from !== null && { validFrom: row.valid_from.toISOString() }),
    ...(row.valid_until !== null && { validUntil: row.valid_until.toISOString() }),
    ...(row.validity_days !== null && { validityDays: row.validity_days }),
    ...(row.first_use_by !== null && { firstUseBy: row.first_use_by.toISOString() }),
    ...(row.first_used_at !== null && { firstUsedAt: row.first_used_at.toISOString() }),
    issuedAt: row.issued_at.toISOString(),
    ...(row.refunded_at !== null && { refundedAt: row.refunded_at.toISOString() }),
    ...(row.revoked_at !== null && { revokedAt: row.revoked_at.toISOString() }),
  };
}
