import { ConfigError, loadConfig } from './config';
import { PRODUCTION_ENV } from '../../test/support/production-env';

/** Everything production requires, with production values. */
const PRODUCTION = {
  ...PRODUCTION_ENV,
  DATABASE_URL: 'postgres://app:s3cret@db.internal:5432/lienthong',
  REDIS_URL: 'redis://cache.internal:6379',
  AUTH_TOKEN_KEYS: 'prod-2026-11:0123456789abcdef0123456789abcdef-production',
};

describe('auth configuration', () => {
  it('has development defaults', () => {
    const { auth, trustProxy } = loadConfig({});
    expect(auth).toEqual({
      tokenKeys: [{ kid: 'dev-1', secret: expect.stringContaining('lienthong-dev') }],
      issuer: 'lien-thong',
      audience: 'lien-thong-api',
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 30 * 24 * 3600,
      deviceTokenTtlSeconds: 3600,
      loginAttemptsPerPair: 5,
      loginAttemptsPerAccount: 50,
      loginAttemptsPerAddress: 100,
      loginWindowSeconds: 900,
      loginSlowdownMaxMs: 2000,
      registrationsPerAddress: 10,
      registrationWindowSeconds: 3600,
      disabledDevicesRefreshSeconds: 60,
    });
    expect(trustProxy).toBe(false);
  });

  it('reads several keys, the first signing', () => {
    const { auth } = loadConfig({ AUTH_TOKEN_KEYS: 'b:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, a:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' });
    expect(auth.tokenKeys.map((key) => key.kid)).toEqual(['b', 'a']);
  });

  it.each([
    ['short', 'k:too-short', /shorter than 32 characters for kid "k"/],
    ['no kid', ':aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', /kid:secret pairs/],
    ['no separator', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', /kid:secret pairs/],
    ['a repeated kid', 'k:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,k:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', /names a kid twice/],
  ])('refuses AUTH_TOKEN_KEYS with %s, without printing the secret', (_, value, message) => {
    expect(() => loadConfig({ AUTH_TOKEN_KEYS: value })).toThrow(message);
    try {
      loadConfig({ AUTH_TOKEN_KEYS: value });
    } catch (error) {
      expect((error as ConfigError).variable).toBe('AUTH_TOKEN_KEYS');
      expect((error as Error).message).not.toMatch(/aaaaaaaa|bbbbbbbb|too-short/);
    }
  });

  it('requires token keys in production and refuses the development ones', () => {
    expect(loadConfig(PRODUCTION).auth.tokenKeys[0]?.kid).toBe('prod-2026-11');
    const withoutKeys: Record<string, string> = { ...PRODUCTION };
    delete withoutKeys.AUTH_TOKEN_KEYS;
    expect(() => loadConfig(withoutKeys)).toThrow('Invalid configuration: AUTH_TOKEN_KEYS is required');
    const withDevKey = { ...PRODUCTION, AUTH_TOKEN_KEYS: `${PRODUCTION.AUTH_TOKEN_KEYS},dev-1:lienthong-dev-access-token-key-do-not-use-in-production` };
    expect(() => loadConfig(withDevKey)).toThrow('Invalid configuration: AUTH_TOKEN_KEYS holds a development secret; set a production value');
  });

  it('bounds token lifetimes and login limits', () => {
    expect(() => loadConfig({ AUTH_ACCESS_TOKEN_TTL_SECONDS: '86400' })).toThrow(/AUTH_ACCESS_TOKEN_TTL_SECONDS must be between 60 and 3600/);
    expect(() => loadConfig({ LOGIN_ATTEMPTS_PER_ACCOUNT: '0' })).toThrow(/LOGIN_ATTEMPTS_PER_ACCOUNT/);
  });

  it('reads TRUST_PROXY as false, a hop count or proxy addresses', () => {
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(() => loadConfig({ TRUST_PROXY: 'everyone' })).toThrow(/TRUST_PROXY must be false, a number of hops, or proxy addresses/);
  });
});
