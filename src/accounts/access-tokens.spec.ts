import jwt from 'jsonwebtoken';
import { loadConfig } from '../config/config';
import { AccessTokens } from './access-tokens';

const OLD = 'old:an-old-signing-secret-of-at-least-32-chars';
const NEW = 'new:a-new-signing-secret-of-at-least-32-chars!';
const tokensWith = (keys: string) => new AccessTokens(loadConfig({ NODE_ENV: 'test', AUTH_TOKEN_KEYS: keys }));

describe('AccessTokens', () => {
  const account = { subject: 'account', accountId: 'a1', sessionId: 's1', role: 'passenger' } as const;
  const device = { subject: 'device', deviceId: 'd1', operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-cat-linh' } as const;

  it('round-trips account and device claims, with kid, issuer, audience and expiry', () => {
    const tokens = tokensWith(NEW);
    const signed = tokens.sign(account);
    expect(signed.expiresIn).toBe(900);
    expect(tokens.verify(signed.token)).toEqual(account);
    expect(jwt.decode(signed.token, { complete: true })).toMatchObject({
      header: { alg: 'HS256', kid: 'new' },
      payload: { sub: 'a1', iss: 'lien-thong', aud: 'lien-thong-api', role: 'passenger', sid: 's1' },
    });
    const bus = { ...device, stationId: null };
    expect(tokens.verify(tokens.sign(bus).token)).toEqual(bus);
    expect(tokens.sign(device).expiresIn).toBe(3600);
    const handset = { subject: 'handset', deviceId: 'h1', operatorId: 'hmc' } as const;
    const signedHandset = tokens.sign(handset);
    expect(signedHandset.expiresIn).toBe(3600);
    expect(tokens.verify(signedHandset.token)).toEqual(handset);
    expect(jwt.decode(signedHandset.token)).toMatchObject({ sub: 'h1', role: 'inspector', op: 'hmc', dev: true });
  });

  it('keeps accepting tokens of a retired key that is still listed, and only those', () => {
    const before = tokensWith(OLD).sign(account).token;
    expect(tokensWith(`${NEW},${OLD}`).verify(before)).toEqual(account);
    expect(() => tokensWith(NEW).verify(before)).toThrow(expect.objectContaining({ code: 'TOKEN_INVALID' }));
  });

  it('refuses expired, foreign, mis-typed and malformed tokens', () => {
    const tokens = tokensWith(NEW);
    const secret = NEW.slice(4);
    const sign = (payload: object, options: jwt.SignOptions = {}) =>
      jwt.sign(payload, secret, { algorithm: 'HS256', keyid: 'new', issuer: 'lien-thong', audience: 'lien-thong-api', subject: 'a1', expiresIn: 60, ...options });
    const codeOf = (token: string) => {
      try {
        tokens.verify(token);
        return 'accepted';
      } catch (error) {
        return (error as { code: string }).code;
      }
    };
    expect(codeOf(sign({ role: 'passenger', sid: 's1' }, { expiresIn: -10 }))).toBe('TOKEN_EXPIRED');
    expect(codeOf(sign({ role: 'passenger', sid: 's1' }, { issuer: 'elsewhere' }))).toBe('TOKEN_INVALID');
    expect(codeOf(sign({ role: 'passenger', sid: 's1' }, { audience: 'elsewhere' }))).toBe('TOKEN_INVALID');
    expect(codeOf(sign({ role: 'passenger', sid: 's1' }, { algorithm: 'HS512' }))).toBe('TOKEN_INVALID');
    expect(codeOf(sign({ role: 'superuser', sid: 's1' }))).toBe('TOKEN_INVALID');
    expect(codeOf(sign({ role: 'passenger' }))).toBe('TOKEN_INVALID');
    expect(codeOf(sign({ role: 'validator', line: 'metro-2a', stn: null }))).toBe('TOKEN_INVALID');
    // An inspector's handset: no session, an operator, and marked as a device.
    expect(codeOf(sign({ role: 'inspector', op: 'hmc' }))).toBe('TOKEN_INVALID');
    expect(codeOf(sign({ role: 'inspector', dev: true }))).toBe('TOKEN_INVALID');
    expect(codeOf(sign({ role: 'admin', op: 'hmc', dev: true }))).toBe('TOKEN_INVALID');
    expect(codeOf(sign({ role: 'inspector', op: 'hmc', dev: true }))).toBe('accepted');
    expect(codeOf(sign({ role: 'passenger', sid: 's1' }))).toBe('accepted');
    // Without exp it would never expire.
    expect(codeOf(jwt.sign({ role: 'passenger', sid: 's1' }, secret, { algorithm: 'HS256', keyid: 'new', issuer: 'lien-thong', audience: 'lien-thong-api', subject: 'a1' }))).toBe('TOKEN_INVALID');
    expect(codeOf('not.a.jwt')).toBe('TOKEN_INVALID');
  });
});
