import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { DomainError, NotFoundError } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { IdempotencyStore, type IdempotentRequest } from './idempotency';
import { GateWallet } from './gate-wallet';
import { Ledger, SYSTEM_LEDGER_ACCOUNTS } from './ledger';
import { PAYMENT_GATEWAY, type GatewayCallback, type PaymentGateway } from './payment-gateway';
import type { PaymentDto, PaymentPurpose, PaymentStatus, SandboxCompletedDto, WebhookResultDto } from './payments.dto';
import { SandboxGateway } from './sandbox-gateway';
import type { WalletBalanceDto } from './wallet.dto';

/** Work to do once the transaction that decided it has committed (e.g. telling the gates). */
export type AfterCommit = () => Promise<void>;

export interface PaymentRecord {
  id: string;
  accountId: string;
  orderId: string | null;
  penaltyId: string | null;
  amount: number;
}

/**
 * How the side a payment is for settles it, inside the transaction that records the outcome: the
 * orders side an order's payment, inspection a penalty's. Payments sit below both, so the caller
 * (PaymentSettlement, in payment-outcomes) passes them in explicitly to every method that can finish
 * such a payment; nothing is registered with this service.
 */
export interface PaymentPurposeSettlement {
  settle(em: EntityManager, payment: PaymentRecord, outcome: 'succeeded' | 'failed' | 'expired'): Promise<AfterCommit | undefined>;
}
export type PaymentSettlers = Record<Exclude<PaymentPurpose, 'top_up'>, PaymentPurposeSettlement>;

interface PaymentRow {
  id: string;
  account_id: string;
  purpose: PaymentPurpose;
  order_id: string | null;
  penalty_id: string | null;
  amount: string;
  gateway: string;
  status: PaymentStatus;
  redirect_url: string;
  gateway_reference: string | null;
  created_at: Date;
  expires_at: Date;
}

const PAYMENT_COLUMNS = 'id, account_id, purpose, order_id, penalty_id, amount, gateway, status, redirect_url, gateway_reference, created_at, expires_at';
const SWEEP_BATCH = 500;

/**
 * Payments through the gateway: created pending, settled only by the first valid callback for a
 * pending payment with the right amount, expired when nobody pays in time. The webhook route and
 * the expiry sweep are driven from payment-outcomes (PaymentSettlement), which passes the settling steps.
 */
@Injectable()
export class PaymentsService {

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PAYMENT_GATEWAY) private readonly gateway: PaymentGateway,
    private readonly sandbox: SandboxGateway,
    private readonly ledger: Ledger,
    private readonly idempotency: IdempotencyStore,
    private readonly httpAdapterHost: HttpAdapterHost,
    private readonly gateWallet: GateWallet,
  ) {}

  async walletBalance(accountId: string): Promise<WalletBalanceDto> {
    return this.ledger.walletBalance(this.db.manager, accountId);
  }

  async topUp(accountId: string, amount: number, request: IdempotentRequest): Promise<PaymentDto> {
    const outcome = await this.db.transaction((em) =>
      this.idempotency.once(em, accountId, request, () => this.createPayment(em, { accountId, purpose: 'top_up', amount })),
    );
    return outcome.response;
  }

  /** A pending payment at the gateway, in the caller's transaction. */
  async createPayment(em: EntityManager, payment: { accountId: string; purpose: PaymentPurpose; orderId?: string; penaltyId?: string; amount: number }): Promise<PaymentDto> {
    const id = randomUUID();
    const [row] = await em.query<PaymentRow[]>(
      `INSERT INTO payments (id, account_id, purpose, order_id, penalty_id, amount, gateway, status, redirect_url, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, now() + make_interval(secs => $9)) RETURNING ${PAYMENT_COLUMNS}`,
      [
        id,
        payment.accountId,
        payment.purpose,
        payment.orderId ?? null,
        payment.penaltyId ?? null,
        payment.amount,
        this.gateway.name,
        this.gateway.redirectUrlFor({ id, amount: payment.amount }),
        this.config.payments.paymentTtlSeconds,
      ],
    );
    return toPaymentDto(row);
  }

  /** The pending payment of a penalty, if one is waiting at the gateway. */
  async pendingPaymentOfPenalty(em: EntityManager, penaltyId: string): Promise<PaymentDto | undefined> {
    const [row] = await em.query<PaymentRow[]>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE penalty_id = $1 AND status = 'pending'`, [penaltyId]);
    return row && toPaymentDto(row);
  }

  /** The payment an order is waiting for, if any. */
  async paymentOfOrder(em: EntityManager, orderId: string): Promise<PaymentDto | undefined> {
    const [row] = await em.query<PaymentRow[]>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = $1`, [orderId]);
    return row && toPaymentDto(row);
  }

  /**
   * The gateway's callback. Only a validly signed, first callback for a pending, unexpired payment
   * with the same amount changes anything; a repeat of an applied callback answers 200 again.
   * `settlers` settle an order's or a penalty's payment in the same transaction.
   */
  async handleWebhook(rawBody: string | undefined, signature: string | undefined, settlers: PaymentSettlers): Promise<WebhookResultDto> {
    const callback = this.gateway.verifyCallback(rawBody ?? '', signature);
    if (!isUuid(callback.paymentId)) throw new NotFoundError('Payment', callback.paymentId);
    const { payment, verdict, afterCommit } = await this.db.transaction(async (em) => {
      const [row] = await em.query<PaymentRow[]>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = $1 AND gateway = $2 FOR UPDATE`, [
        callback.paymentId,
        this.gateway.name,
      ]);
      if (!row) throw new NotFoundError('Payment', callback.paymentId);
      if (row.status !== 'pending') return { payment: row, verdict: repeatedCallback(row, callback), afterCommit: undefined };
      if (callback.amount !== Number(row.amount) || callback.currency !== 'VND') {
        throw new DomainError('refused', 'AMOUNT_MISMATCH', `The callback is for ${callback.amount} ${callback.currency}; the payment is ${row.amount} VND`);
      }
      if (row.expires_at.getTime() <= Date.now()) {
        return { payment: row, verdict: 'late' as const, afterCommit: await this.finish(em, row, 'expired', null, settlers) };
      }
      const settled = await this.finish(em, row, callback.outcome, callback.gatewayReference, settlers);
      return { payment: { ...row, status: callback.outcome }, verdict: 'applied' as const, afterCommit: settled };
    });
    if (afterCommit) await afterCommit();
    if (verdict === 'late') {
      throw new DomainError('conflict', 'PAYMENT_NOT_PENDING', `Payment ${payment.id} expired before this callback; nothing was charged or issued`);
    }
    return { paymentId: payment.id, status: payment.status, applied: verdict === 'applied' };
  }

  /** Development only: the payer finishes on the sandbox page, and the sandbox gateway calls our webhook. */
  async completeInSandbox(paymentId: string, outcome: 'succeeded' | 'failed'): Promise<SandboxCompletedDto> {
    if (this.config.nodeEnv === 'production' || !isUuid(paymentId)) throw new NotFoundError('Payment', paymentId);
    const [payment] = await this.db.query<PaymentRow[]>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = $1 AND gateway = $2`, [paymentId, this.sandbox.name]);
    if (!payment) throw new NotFoundError('Payment', paymentId);
    const { body, signature } = this.sandbox.signedCallback({
      paymentId,
      gatewayReference: `sbx_${paymentId}`,
      amount: Number(payment.amount),
      currency: 'VND',
      outcome,
    });
    const fastify = this.httpAdapterHost.httpAdapter.getInstance<FastifyInstance>();
    const response = await fastify.inject({
      method: 'POST',
      url: '/v1/payments/webhook',
      headers: { 'content-type': 'application/json', 'x-signature': signature },
      payload: body,
    });
    return { webhookStatus: response.statusCode, webhookResponse: response.json<object>() };
  }

  /** Expires pending payments past their time (and, through `settlers`, the orders waiting for them). */
  async expireOverdue(settlers: PaymentSettlers): Promise<number> {
    const afterCommits: AfterCommit[] = [];
    const count = await this.db.transaction(async (em) => {
      const overdue = await em.query<PaymentRow[]>(
        `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE status = 'pending' AND expires_at <= now()
         ORDER BY expires_at LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED`,
      );
      for (const payment of overdue) {
        const afterCommit = await this.finish(em, payment, 'expired', null, settlers);
        if (afterCommit) afterCommits.push(afterCommit);
      }
      return overdue.length;
    });
    for (const afterCommit of afterCommits) await afterCommit();
    return count;
  }

  /** Records a pending payment's outcome and its effect: the wallet credited, the order or the penalty settled. */
  private async finish(
    em: EntityManager,
    payment: PaymentRow,
    status: 'succeeded' | 'failed' | 'expired',
    gatewayReference: string | null,
    settlers: PaymentSettlers,
  ): Promise<AfterCommit | undefined> {
    await em.query(`UPDATE payments SET status = $2, gateway_reference = $3, completed_at = now() WHERE id = $1`, [payment.id, status, gatewayReference]);
    const record: PaymentRecord = { id: payment.id, accountId: payment.account_id, orderId: payment.order_id, penaltyId: payment.penalty_id, amount: Number(payment.amount) };
    switch (payment.purpose) {
      case 'top_up':
        if (status === 'succeeded') {
          const movements = await this.ledger.transfer(em, {
            kind: 'top_up',
            reference: payment.id,
            from: SYSTEM_LEDGER_ACCOUNTS.gatewayClearing,
            to: { wallet: payment.account_id },
            amount: record.amount,
          });
          await this.gateWallet.duringTransaction(em, movements);
          return () => this.gateWallet.afterCommit(movements);
        }
        return undefined;
      case 'order':
      case 'penalty':
        return settlers[payment.purpose].settle(em, record, status);
    }
  }
}

/** A settled payment hears the same callback again (a gateway retry: fine) or another one (refused). */
function repeatedCallback(payment: PaymentRow, callback: GatewayCallback): 'repeat' {
  if (payment.gateway_reference === callback.gatewayReference && payment.status === callback.outcome) return 'repeat';
  throw new DomainError('conflict', 'PAYMENT_NOT_PENDING', `Payment ${payment.id} is already ${payment.status}; nothing was changed`);
}

function toPaymentDto(row: PaymentRow): PaymentDto {
  return {
    id: row.id,
    purpose: row.purpose,
    status: row.status,
    amount: Number(row.amount),
    currency: 'VND',
    gateway: row.gateway,
    redirectUrl: row.redirect_url,
    ...(row.order_id === null ? {} : { orderId: row.order_id }),
    ...(row.penalty_id === null ? {} : { penaltyId: row.penalty_id }),
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
  };
}
