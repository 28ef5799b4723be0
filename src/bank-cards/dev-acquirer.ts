import { Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyInstance } from 'fastify';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { localDateAt } from '../fares/domain/local-time';
import type { Acquirer, AcquirerEvent, Authorisation, AuthoriseRequest, SettlementLine } from './acquirer';

/** HMAC-SHA256 of the exact body, hex: what the acquirer sends in X-Signature. */
export function acquirerSignature(secret: string, rawBody: string): string {
  return createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex');
}

/** Where our service takes the acquirer's webhooks. */
export const ACQUIRER_WEBHOOK_PATH = '/v1/bank-cards/acquirer/webhook';
const DECLINE_PREFIX = 'tok_decline';
const DECLINE_TIMES = /^tok_decline_(\d+)_/;
const SETTLEMENT_HEADER = 'acquirer_reference,operation,reference,amount,currency';

interface OperationRow {
  operation: 'authorise' | 'capture' | 'refund';
  merchant_reference: string;
  amount: string;
  outcome: 'approved' | 'declined';
  acquirer_reference: string;
  decline_code: string | null;
}

/**
 * The development acquirer (ACQUIRER=dev, refused in production). It keeps its own books in
 * `dev_acquirer_operations`, one row per idempotency key, so a repeated call gets its first answer.
 * Test tokens decide the outcome: a token starting `tok_decline_<n>_` is declined its first n
 * authorisations and approved after (a rider who topped up their bank account), any other token
 * starting `tok_decline` always; every other token is approved. After each operation it calls our
 * webhook with a signed event (HMAC-SHA256 of the body under ACQUIRER_WEBHOOK_SECRET, header
 * X-Signature), and once a day is over its settlement file (CSV, in ACQUIRER_SETTLEMENT_DIR) lists
 * what it paid out for that day's captures and took back for its refunds.
 * It sees tokens, as an acquirer does, but stores only its own HMAC of them.
 */
@Injectable()
export class DevAcquirer implements Acquirer {
  readonly name = 'dev';
  private readonly logger = new Logger(DevAcquirer.name);
  private readonly secret: string;
  private readonly settlementDir: string;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly httpAdapterHost: HttpAdapterHost,
  ) {
    this.secret = config.bankCards.acquirerWebhookSecret ?? '';
    this.settlementDir = config.bankCards.acquirerSettlementDir;
  }

  async authorise(request: AuthoriseRequest): Promise<Authorisation> {
    const cardRef = createHmac('sha256', this.secret).update(request.token).digest('hex');
    const row = await this.record(request.idempotencyKey, 'authorise', cardRef, request.reference, request.amount, async (em) => {
      const [{ count }] = await em.query<Array<{ count: number }>>(
        `SELECT count(*)::int AS count FROM dev_acquirer_operations WHERE card_ref = $1 AND operation = 'authorise'`,
        [cardRef],
      );
      return declines(request.token, count) ? 'insufficient_funds' : null;
    });
    if (row.outcome === 'declined') return { outcome: 'declined', declineCode: row.decline_code ?? 'declined', acquirerReference: row.acquirer_reference };
    return { outcome: 'approved', authorisation: row.acquirer_reference };
  }

  async capture(request: { idempotencyKey: string; authorisation: string; amount: number; reference: string }): Promise<{ acquirerReference: string }> {
    const [auth] = await this.db.query<OperationRow[]>(`SELECT * FROM dev_acquirer_operations WHERE acquirer_reference = $1 AND operation = 'authorise'`, [
      request.authorisation,
    ]);
    if (auth?.outcome !== 'approved' || Number(auth.amount) !== request.amount) {
      throw new Error(`dev acquirer: no approved authorisation ${request.authorisation} of ${request.amount} đồng`);
    }
    const row = await this.record(request.idempotencyKey, 'capture', request.authorisation, request.reference, request.amount, async () => null);
    return { acquirerReference: row.acquirer_reference };
  }

  async refund(request: { idempotencyKey: string; acquirerReference: string; amount: number; reference: string }): Promise<{ acquirerReference: string }> {
    const row = await this.record(request.idempotencyKey, 'refund', request.acquirerReference, request.reference, request.amount, async () => null);
    return { acquirerReference: row.acquirer_reference };
  }

  verifyWebhook(rawBody: string | undefined, signature: string | undefined): AcquirerEvent {
    const expected = Buffer.from(acquirerSignature(this.secret, rawBody ?? ''), 'hex');
    const given = Buffer.from(signature && /^[0-9a-f]{64}$/i.test(signature) ? signature : '', 'hex');
    if (rawBody === undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new DomainError('unauthenticated', 'INVALID_SIGNATURE', 'The webhook signature does not match its body');
    }
    return parseEvent(rawBody);
  }

  /**
   * The day's settlement file: written once the day is over (then read back from disk, as a real
   * acquirer's file would be fetched), built from the books while the day still runs.
   */
  async settlementFile(day: string): Promise<SettlementLine[]> {
    const path = join(this.settlementDir, `settlement-${day}.csv`);
    const existing = await readFile(path, 'utf8').catch(() => undefined);
    if (existing !== undefined) return parseSettlement(existing);
    const rows = await this.db.query<OperationRow[]>(
      `SELECT * FROM dev_acquirer_operations
        WHERE operation IN ('capture', 'refund') AND (created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date = $1::date
        ORDER BY created_at, acquirer_reference`,
      [day],
    );
    const text = [
      SETTLEMENT_HEADER,
      ...rows.map((row) => [row.acquirer_reference, row.operation, row.merchant_reference, row.operation === 'refund' ? -Number(row.amount) : Number(row.amount), 'VND'].join(',')),
    ].join('\n');
    if (day < localDateAt(Date.now())) {
      await mkdir(this.settlementDir, { recursive: true });
      await writeFile(path, `${text}\n`, { flag: 'wx' }).catch(() => undefined);
    }
    return parseSettlement(text);
  }

  /** One operation per idempotency key: the first answer is kept and returned again; then the webhook. */
  private async record(
    key: string,
    operation: OperationRow['operation'],
    cardRef: string,
    reference: string,
    amount: number,
    decide: (em: import('typeorm').EntityManager) => Promise<string | null>,
  ): Promise<OperationRow> {
    const { row, fresh } = await this.db.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [cardRef]);
      const [known] = await em.query<OperationRow[]>(`SELECT * FROM dev_acquirer_operations WHERE idempotency_key = $1`, [key]);
      if (known) return { row: known, fresh: false };
      const declineCode = await decide(em);
      const [inserted] = await em.query<OperationRow[]>(
        `INSERT INTO dev_acquirer_operations (idempotency_key, operation, card_ref, merchant_reference, amount, outcome, acquirer_reference, decline_code)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
        [key, operation, cardRef, reference, amount, declineCode ? 'declined' : 'approved', `acq_${randomUUID()}`, declineCode],
      );
      return { row: inserted, fresh: true };
    });
    if (fresh) await this.callBack(key, row);
    return row;
  }

  /** Our webhook, signed; a failed delivery is logged (the charge job's own answer still counts). */
  private async callBack(key: string, row: OperationRow): Promise<void> {
    const type: AcquirerEvent['type'] =
      row.operation === 'authorise' ? (row.outcome === 'approved' ? 'authorisation.approved' : 'authorisation.declined') : row.operation === 'capture' ? 'capture.succeeded' : 'refund.succeeded';
    const event: AcquirerEvent = {
      type,
      reference: row.merchant_reference,
      idempotencyKey: key,
      acquirerReference: row.acquirer_reference,
      amount: Number(row.amount),
      ...(row.decline_code !== null && { declineCode: row.decline_code }),
    };
    const body = JSON.stringify(event);
    try {
      const response = await this.httpAdapterHost.httpAdapter.getInstance<FastifyInstance>().inject({
        method: 'POST',
        url: ACQUIRER_WEBHOOK_PATH,
        headers: { 'content-type': 'application/json', 'x-signature': acquirerSignature(this.secret, body) },
        payload: body,
      });
      if (response.statusCode !== 200) this.logger.warn(`the acquirer webhook answered ${response.statusCode} to ${type}`);
    } catch (error) {
      this.logger.warn({ err: error }, `delivering the acquirer webhook ${type} failed`);
    }
  }
}

/** Whether the development acquirer declines this authorisation of the token (the card's `earlier`-th). */
export function declines(token: string, earlier: number): boolean {
  if (!token.startsWith(DECLINE_PREFIX)) return false;
  const times = DECLINE_TIMES.exec(token);
  return times ? earlier < Number(times[1]) : true;
}

function parseSettlement(text: string): SettlementLine[] {
  return text
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [acquirerReference, operation, reference, amount] = line.split(',');
      return { acquirerReference, operation: operation as SettlementLine['operation'], reference, amount: Number(amount) };
    });
}

const EVENT_TYPES: ReadonlyArray<AcquirerEvent['type']> = ['authorisation.approved', 'authorisation.declined', 'capture.succeeded', 'refund.succeeded'];

/** A signed body is trusted, but still has to say what an event says. */
function parseEvent(rawBody: string): AcquirerEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    parsed = null;
  }
  const value = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<Record<keyof AcquirerEvent, unknown>>;
  const { type, reference, idempotencyKey, acquirerReference, amount, declineCode } = value;
  if (
    !EVENT_TYPES.includes(type as AcquirerEvent['type']) ||
    typeof reference !== 'string' ||
    typeof idempotencyKey !== 'string' ||
    typeof acquirerReference !== 'string' ||
    typeof amount !== 'number' ||
    !Number.isSafeInteger(amount) ||
    (declineCode !== undefined && typeof declineCode !== 'string')
  ) {
    throw new DomainError('invalid', 'MALFORMED_EVENT', 'The event lacks type, reference, idempotencyKey, acquirerReference or amount');
  }
  return { type: type as AcquirerEvent['type'], reference, idempotencyKey, acquirerReference, amount, ...(declineCode !== undefined && { declineCode }) };
}
