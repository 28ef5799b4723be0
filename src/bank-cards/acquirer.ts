/**
 * The card acquirer, as the charge job sees it: an authorisation of an amount on a card token,
 * its capture, refunds, signed webhooks, and a daily settlement file of what it paid out. Every
 * call carries an idempotency key: the same key again gets the first answer and does nothing more,
 * so a charge job killed after the acquirer answered and before we recorded it asks again safely.
 */
export interface Acquirer {
  readonly name: string;
  authorise(request: AuthoriseRequest): Promise<Authorisation>;
  /** Captures an approved authorisation in full. */
  capture(request: { idempotencyKey: string; authorisation: string; amount: number; reference: string }): Promise<{ acquirerReference: string }>;
  refund(request: { idempotencyKey: string; acquirerReference: string; amount: number; reference: string }): Promise<{ acquirerReference: string }>;
  /** The webhook's event when its signature over the raw body is valid; 401 INVALID_SIGNATURE otherwise. */
  verifyWebhook(rawBody: string | undefined, signature: string | undefined): AcquirerEvent;
  /** The settlement file of a local day (YYYY-MM-DD): what the acquirer paid out (captures) or took back (refunds). */
  settlementFile(day: string): Promise<SettlementLine[]>;
}

export interface AuthoriseRequest {
  idempotencyKey: string;
  token: string;
  amount: number;
  /** Our reference: the charge id. */
  reference: string;
}

export type Authorisation = { outcome: 'approved'; authorisation: string } | { outcome: 'declined'; declineCode: string; acquirerReference: string };

export interface AcquirerEvent {
  type: 'authorisation.approved' | 'authorisation.declined' | 'capture.succeeded' | 'refund.succeeded';
  /** Our reference (the charge id). */
  reference: string;
  idempotencyKey: string;
  acquirerReference: string;
  amount: number;
  declineCode?: string;
}

export interface SettlementLine {
  acquirerReference: string;
  operation: 'capture' | 'refund';
  /** Our reference (the charge id). */
  reference: string;
  /** đồng paid out to us (a refund: negative). */
  amount: number;
}

export const ACQUIRER = Symbol('Acquirer');
