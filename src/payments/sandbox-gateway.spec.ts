import { loadConfig } from '../config/config';
import { SandboxGateway, webhookSignature } from './sandbox-gateway';
import { domainErrorCode } from '../../test/support/errors';

const gateway = new SandboxGateway(loadConfig({ PAYMENT_WEBHOOK_SECRET: 'a-test-secret-a-test-secret-a-test-secret', PUBLIC_BASE_URL: 'https://pay.example/' }));
const callback = { paymentId: 'p-1', gatewayReference: 'sbx_p-1', amount: 50_000, currency: 'VND', outcome: 'succeeded' as const };


describe('SandboxGateway', () => {
  it('accepts the callbacks it signed, over the exact bytes', () => {
    const { body, signature } = gateway.signedCallback(callback);
    expect(signature).toBe(webhookSignature('a-test-secret-a-test-secret-a-test-secret', body));
    expect(gateway.verifyCallback(body, signature)).toEqual(callback);
    expect(gateway.verifyCallback(body, signature.toUpperCase())).toEqual(callback);
  });

  it('refuses a missing, malformed, foreign or stale signature', () => {
    const { body, signature } = gateway.signedCallback(callback);
    expect(domainErrorCode(() => gateway.verifyCallback(body, undefined))).toBe('INVALID_SIGNATURE');
    expect(domainErrorCode(() => gateway.verifyCallback(body, 'zz'))).toBe('INVALID_SIGNATURE');
    expect(domainErrorCode(() => gateway.verifyCallback(body, webhookSignature('another-secret-another-secret-another', body)))).toBe('INVALID_SIGNATURE');
    expect(domainErrorCode(() => gateway.verifyCallback(body.replace('50000', '500000'), signature))).toBe('INVALID_SIGNATURE');
    expect(domainErrorCode(() => gateway.verifyCallback(`${body} `, signature))).toBe('INVALID_SIGNATURE');
  });

  it('refuses a signed body that is not a callback', () => {
    const body = JSON.stringify({ paymentId: 'p-1', amount: '50000' });
    expect(domainErrorCode(() => gateway.verifyCallback(body, webhookSignature('a-test-secret-a-test-secret-a-test-secret', body)))).toBe('MALFORMED_CALLBACK');
    expect(domainErrorCode(() => gateway.verifyCallback('null', webhookSignature('a-test-secret-a-test-secret-a-test-secret', 'null')))).toBe('MALFORMED_CALLBACK');
  });

  it('sends the payer to its page under the public base URL', () => {
    expect(gateway.redirectUrlFor({ id: 'p-1' })).toBe('https://pay.example/v1/payments/sandbox/p-1/complete');
  });
});
