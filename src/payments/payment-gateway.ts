/** What a gateway's verified callback says about one payment. */
export interface GatewayCallback {
  paymentId: string;
  /** The gateway's own id of the transaction. */
  gatewayReference: string;
  amount: number;
  currency: string;
  outcome: 'succeeded' | 'failed';
}

/**
 * A hosted-payment provider (VNPay and MoMo work this way): we create a payment and send the payer
 * to the provider's page; the provider later calls our webhook with a signed result.
 */
export interface PaymentGateway {
  readonly name: string;
  /** The page the payer is sent to. */
  redirectUrlFor(payment: { id: string; amount: number }): string;
  /** The callback's content when its signature over the raw body is valid; 401 INVALID_SIGNATURE otherwise. */
  verifyCallback(rawBody: string, signature: string | undefined): GatewayCallback;
}

export const PAYMENT_GATEWAY = Symbol('PaymentGateway');
