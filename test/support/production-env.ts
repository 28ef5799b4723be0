import { generateKeyPairSync } from 'node:crypto';

/**
 * Everything production requires (src/config/config.ts), with production-like values: one place for the
 * config specs and the tests that start the app in production, so a new required secret is added once.
 */
export const PRODUCTION_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://app:s3cret@db/lienthong',
  REDIS_URL: 'redis://cache:6379',
  AUTH_TOKEN_KEYS: 'prod-1:0123456789abcdef0123456789abcdef-production',
  PAYMENT_WEBHOOK_SECRET: 'a-production-webhook-secret-of-32-characters',
  QR_SIGNING_KEYS: `qr-1:${generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`,
  METRICS_TOKEN: 'a-production-metrics-token-of-32-characters',
  MEDIA_LOOKUP_SECRET: 'a-production-media-lookup-secret-of-32-characters',
  TRANSIT_CARD_MASTER_KEY: 'a-production-transit-card-master-key-32-characters',
};
