import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuthUser } from '../common/auth-user';
import { NotFoundError } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { FaresService } from '../fares/fares.service';
import type { RiderCategory } from '../fares/rider-category';
import { IdempotencyStore, type IdempotentRequest } from '../payments/idempotency';
import { Ledger, SYSTEM_LEDGER_ACCOUNTS, type WalletMovement } from '../payments/ledger';
import type { PaymentDto } from '../payments/payments.dto';
import { GateWallet } from '../payments/gate-wallet';
import { PaymentsService, type AfterCommit, type PaymentPurposeSettlement, type PaymentRecord } from '../payments/payments.service';
import { priceOrderItems, type PricedItem } from './order-pricing';
import { TicketsService, toTicketDto, type TicketRow } from './tickets.service';
import type { CreateOrderDto, OrderDto, OrderStatus } from './tickets.dto';

interface OrderRow {
  id: string;
  account_id: string;
  status: OrderStatus;
  pay_with: 'wallet' | 'gateway';
  total: string;
  rider_category: RiderCategory;
  items: PricedItem[];
  created_at: Date;
  paid_at: Date | null;
}

/**
 * Orders: priced by the fare engine at purchase, paid from the wallet at once or through the
 * gateway later; either way the tickets are issued in the transaction that takes the money.
 */
@Injectable()
export class OrdersService implements PaymentPurposeSettlement {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly fares: FaresService,
    private readonly ledger: Ledger,
    private readonly idempotency: IdempotencyStore,
    private readonly payments: PaymentsService,
    private readonly tickets: TicketsService,
    private readonly gateWallet: GateWallet,
  ) {}

  async create(user: AuthUser, body: CreateOrderDto, request: IdempotentRequest): Promise<OrderDto> {
    const riderCategory = user.riderCategory ?? 'adult';
    const moved: WalletMovement[] = [];
    const issued: TicketRow[] = [];
    const { response } = await this.gateWallet.orGiveBack(moved, this.db.transaction((em) =>
      this.idempotency.once(em, user.id, request, async () => {
        const items = priceOrderItems(this.fares.calculator(), body.items, riderCategory, Date.now(), this.config.tickets.passStartWithinDays);
        const total = items.reduce((sum, item) => sum + item.unitPrice * item.quantity, 0);
        // Nothing to collect (free riders): paid at once, whatever the payment method.
        const paidNow = body.payWith === 'wallet' || total === 0;
        const [order] = await em.query<OrderRow[]>(
          `INSERT INTO orders (id, account_id, status, pay_with, total, rider_category, items, paid_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $3 = 'paid' THEN now() END) RETURNING *`,
          [randomUUID(), user.id, paidNow ? 'paid' : 'pending_payment', body.payWith, total, riderCategory, JSON.stringify(items)],
        );
        if (!paidNow) {
          const payment = await this.payments.createPayment(em, { accountId: user.id, purpose: 'order', orderId: order.id, amount: total });
          return toOrderDto(order, [], payment);
        }
        if (total > 0) {
          const movements = await this.ledger.transfer(em, { kind: 'purchase', reference: order.id, from: { wallet: user.id }, to: SYSTEM_LEDGER_ACCOUNTS.ticketSales, amount: total });
          moved.push(...movements);
          await this.gateWallet.duringTransaction(em, movements);
        }
        issued.push(...(await this.tickets.issue(em, paidOrder(order))));
        return toOrderDto(order, issued, undefined);
      }),
    ));
    await this.gateWallet.afterCommit(moved);
    await this.tickets.publish(issued);
    return response;
  }

  async get(accountId: string, orderId: string): Promise<OrderDto> {
    if (!isUuid(orderId)) throw new NotFoundError('Order', orderId);
    const em = this.db.manager;
    const [order] = await em.query<OrderRow[]>(`SELECT * FROM orders WHERE id = $1 AND account_id = $2`, [orderId, accountId]);
    if (!order) throw new NotFoundError('Order', orderId);
    const [tickets, payment] = await Promise.all([this.tickets.ticketsOfOrder(em, orderId), this.payments.paymentOfOrder(em, orderId)]);
    return { ...toOrderDto(order, [], payment), tickets };
  }

  /**
   * The order's gateway payment has an outcome: on success, take the money into sales and issue the
   * tickets. Called by PaymentsService in the payment's transaction, passed there by PaymentSettlement.
   */
  async settle(em: EntityManager, payment: PaymentRecord, outcome: 'succeeded' | 'failed' | 'expired'): Promise<AfterCommit | undefined> {
    const [order] = await em.query<OrderRow[]>(`SELECT * FROM orders WHERE id = $1 FOR UPDATE`, [payment.orderId]);
    if (order?.status !== 'pending_payment') throw new Error(`order ${payment.orderId} of pending payment ${payment.id} is not pending`);
    if (outcome !== 'succeeded') {
      await em.query(`UPDATE orders SET status = $2 WHERE id = $1`, [order.id, outcome]);
      return undefined;
    }
    await this.ledger.transfer(em, { kind: 'purchase', reference: order.id, from: SYSTEM_LEDGER_ACCOUNTS.gatewayClearing, to: SYSTEM_LEDGER_ACCOUNTS.ticketSales, amount: payment.amount });
    await em.query(`UPDATE orders SET status = 'paid', paid_at = now() WHERE id = $1`, [order.id]);
    const issued = await this.tickets.issue(em, paidOrder(order));
    return () => this.tickets.publish(issued);
  }
}

function paidOrder(order: OrderRow) {
  return { id: order.id, accountId: order.account_id, riderCategory: order.rider_category, items: order.items };
}

function toOrderDto(order: OrderRow, tickets: readonly TicketRow[], payment: PaymentDto | undefined): OrderDto {
  return {
    id: order.id,
    status: order.status,
    payWith: order.pay_with,
    total: Number(order.total),
    currency: 'VND',
    riderCategory: order.rider_category,
    items: order.items.map(({ productId, productVersionId, name, quantity, unitPrice }) => ({ productId, productVersionId, name, quantity, unitPrice })),
    tickets: tickets.map(toTicketDto),
    ...(payment && { payment }),
    createdAt: order.created_at.toISOString(),
    ...(order.paid_at !== null && { paidAt: order.paid_at.toISOString() }),
  };
}
