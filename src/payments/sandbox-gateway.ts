import { Inject, Injectable } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import type { GatewayCallback, PaymentGateway } from './payment-gateway';

/** HMAC-SHA256 of the exact body, hex: what the sandbox gateway sends in X-Signature. */
export function webhookSignature(secret: string, rawBody: string): string {
  return createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex');
}

/**
 * The built-in development gateway. It behaves like a hosted-payment provider: payments start
 * pending, and POST /v1/payments/sandbox/{id}/complete stands in for the payer finishing on the
 * provider's page, after which the gateway calls our webhook with a signed callback.
 */
@Injectable()
export class SandboxGateway implements PaymentGateway {
  readonly name = 'sandbox';
  private readonly secret: string;
  private readonly baseUrl: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.secret = config.payments.webhookSecret;
    this.baseUrl = config.payments.publicBaseUrl;
  }

  redirectUrlFor(payment: { id: string }): string {
    return `${this.baseUrl}/v1/payments/sandbox/${payment.id}/complete`;
  }

  verifyCallback(rawBody: string, signature: string | undefined): GatewayCallback {
    const expected = Buffer.from(webhookSignature(this.secret, rawBody), 'hex');
    const given = Buffer.from(signature && /^[0-9a-f]{64}$/i.test(signature) ? signature : '', 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new DomainError('unauthenticated', 'INVALID_SIGNATURE', 'The webhook signature does not match its body');
    }
    return parseCallback(rawBody);
  }

  /** The callback the gateway sends once the payer has finished on its page. */
  signedCallback(callback: GatewayCallback): { body: string; signature: string } {
    const body = JSON.stringify(callback);
    return { body, signature: webhookSignature(this.secret, body) };
  }
}

/** A signed body is trusted, but still has to say what a callback says. */
function parseCallback(rawBody: string): GatewayCallback {
  const parsed: unknown = JSON.parse(rawBody);
  const value = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<Record<keyof GatewayCallback, unknown>>;
  const { paymentId, gatewayReference, amount, currency, outcome } = value;
  if (
    typeof paymentId !== 'string' ||
    typeof gatewayReference !== 'string' ||
    typeof amount !== 'number' ||
    !Number.isSafeInteger(amount) ||
    typeof currency !== 'string' ||
    (outcome !== 'succeeded' && outcome !== 'failed')
  ) {
    throw new DomainError('invalid', 'MALFORMED_CALLBACK', 'The callback lacks paymentId, gatewayReference, amount, currency or outcome');
  }
  return { paymentId, gatewayReference, amount, currency, outcome };
}
