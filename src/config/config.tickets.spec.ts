import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig } from './config';
import { PRODUCTION_ENV } from '../../test/support/production-env';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PRIVATE = ec.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
const PUBLIC = ec.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
const RSA = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
const PRODUCTION = { ...PRODUCTION_ENV, QR_SIGNING_KEYS: `qr-1:${PRIVATE}` };

describe('payments and tickets configuration', () => {
  it('has development defaults', () => {
    const { payments, tickets } = loadConfig({ LOCAL_DATA_DIR: '/data' });
    expect(payments).toEqual({ publicBaseUrl: 'http://localhost:3000', webhookSecret: expect.stringContaining('lienthong-dev'), paymentTtlSeconds: 900, expirySweepSeconds: 60 });
    expect(tickets).toEqual({ qrSigningKeys: undefined, qrDevKeyFile: '/data/qr-dev-signing-key.pem', accountQrTtlSeconds: 86_400, singleTripValidityHours: 24, passStartWithinDays: 30, dynamicQr: { credentialDays: 30, stepSeconds: 15, windowSteps: 2 } });
  });

  it('reads QR keys: the first private key signs, retired public keys verify', () => {
    const keys = loadConfig({ QR_SIGNING_KEYS: `new:${PRIVATE}, old:${PUBLIC}` }).tickets.qrSigningKeys!;
    expect(keys.map((key) => [key.kid, key.privateKey !== null])).toEqual([
      ['new', true],
      ['old', false],
    ]);
  });

  it.each([
    [`old:${PUBLIC}`, 'must start with a private key'],
    [`a:${PRIVATE},a:${PUBLIC}`, 'names a kid twice'],
    ['a:bm90IGEga2V5', 'neither a PKCS#8 private key nor an SPKI public key'],
    [`rsa:${RSA}`, 'is not EC P-256'],
    [PRIVATE, 'must be a comma-separated list'],
  ])('refuses QR_SIGNING_KEYS=%#: %s', (value, problem) => {
    expect(() => loadConfig({ QR_SIGNING_KEYS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ QR_SIGNING_KEYS: value })).toThrow(problem);
  });

  it('needs real secrets in production', () => {
    expect(loadConfig(PRODUCTION).tickets.qrSigningKeys?.[0]?.kid).toBe('qr-1');
    expect(() => loadConfig({ ...PRODUCTION, QR_SIGNING_KEYS: '' })).toThrow('QR_SIGNING_KEYS is required');
    expect(() => loadConfig({ ...PRODUCTION, PAYMENT_WEBHOOK_SECRET: undefined })).toThrow('PAYMENT_WEBHOOK_SECRET is required');
    expect(() => loadConfig({ ...PRODUCTION, PAYMENT_WEBHOOK_SECRET: 'lienthong-dev-payment-webhook-secret-do-not-use-in-production' })).toThrow(
      'PAYMENT_WEBHOOK_SECRET holds a development secret',
    );
    expect(() => loadConfig({ ...PRODUCTION, PAYMENT_WEBHOOK_SECRET: 'short' })).toThrow('at least 32 characters');
  });
});
