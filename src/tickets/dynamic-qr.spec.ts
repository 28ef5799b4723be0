import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { loadConfig } from '../config/config';
import { DomainError } from '../common/domain-error';
import { base45Decode, base45Encode } from './base45';
import { DYNAMIC_QR_PREFIX, DynamicQrCredentials, parseCode, parseCredential } from './dynamic-qr';
import { hasLowS } from './qr-signature';
import { QrTokens } from './qr-tokens';
import { Phone } from '../../test/support/phone';

const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
const config = loadConfig({ QR_SIGNING_KEYS: `qr-7:${KEY}` });
const tokens = new QrTokens(config);
const credentials = new DynamicQrCredentials(tokens, config);
const ACCOUNT = '0b5c7a52-1d0e-4a8e-9c6b-2f1e3d4c5b6a';
const MEDIUM = 'c3d2e1f0-0a1b-4c2d-8e3f-405162738495';
const NOW = new Date('2026-12-07T08:00:00+07:00');

describe('base45 (RFC 9285)', () => {
  it.each([
    ['AB', 'BB8'],
    ['Hello!!', '%69 VD92EX0'],
    ['base-45', 'UJCLQE7W581'],
    ['ietf!', 'QED8WEX0'],
  ])('%s is %s, both ways', (bytes, text) => {
    expect(base45Encode(Buffer.from(bytes))).toBe(text);
    expect(base45Decode(text)?.toString()).toBe(bytes);
  });

  it.each([['GGW'], ['GGW0'], ['A'], ['bb8'], ['BB\u00e9'], [':::']])('refuses %j (a value over its group, a lone character, a character outside the 45)', (text) => {
    expect(base45Decode(text)).toBeUndefined();
  });
});

describe('DynamicQrCredentials', () => {
  const phone = new Phone();

  it('takes the phone key as WebCrypto exports it, and refuses private, malformed and off-curve keys with INVALID_PUBLIC_KEY', () => {
    const point = credentials.publicKeyPoint({ ...phone.publicJwk, ext: true, key_ops: ['verify'] });
    expect(point.length).toBe(65);
    expect(point.subarray(1, 33).toString('base64url')).toBe(phone.publicJwk.x);
    const refusal = (jwk: unknown) => {
      try {
        credentials.publicKeyPoint(jwk);
      } catch (error) {
        return [(error as DomainError).kind, (error as DomainError).code];
      }
      return undefined;
    };
    expect(refusal(phone.privateKey.export({ format: 'jwk' }))).toEqual(['refused', 'INVALID_PUBLIC_KEY']);
    expect(refusal({ ...phone.publicJwk, y: phone.publicJwk.x })).toEqual(['refused', 'INVALID_PUBLIC_KEY']);
    expect(refusal({ ...phone.publicJwk, crv: 'P-384' })).toEqual(['invalid', 'INVALID_PUBLIC_KEY']);
    expect(refusal({ ...phone.publicJwk, x: `${phone.publicJwk.x}A` })).toEqual(['invalid', 'INVALID_PUBLIC_KEY']);
    expect(refusal({ ...phone.publicJwk, alg: 'RS256' })).toEqual(['invalid', 'INVALID_PUBLIC_KEY']);
    expect(refusal('a key')).toEqual(['invalid', 'INVALID_PUBLIC_KEY']);
  });

  it('issues a credential in the published layout, signed ES256 with low S by the QR key of the JWKS', () => {
    const issued = credentials.issue(
      { accountId: ACCOUNT, mediumId: MEDIUM, riderCategory: 'poor_household', categoryValidUntil: new Date('2027-01-01T00:00:00Z'), phoneKey: credentials.publicKeyPoint(phone.publicJwk) },
      NOW,
    );
    expect(issued).toMatchObject({ expiresAt: new Date(NOW.getTime() + 30 * 86_400_000), stepSeconds: 15, windowSteps: 2 });
    const parsed = parseCredential(Buffer.from(issued.credential, 'base64url'))!;
    expect(parsed).toMatchObject({
      kid: 'qr-7',
      accountId: ACCOUNT,
      mediumId: MEDIUM,
      riderCategory: 'poor_household',
      categoryValidUntil: Date.parse('2027-01-01T00:00:00Z') / 1000,
      notBefore: NOW.getTime() / 1000,
      expiresAt: NOW.getTime() / 1000 + 30 * 86_400,
    });
    const jwk = tokens.jwks().keys.find((key) => key.kid === parsed.kid)!;
    expect(hasLowS(parsed.signature)).toBe(true);
    expect(verify('sha256', parsed.signed, { key: createPublicKey({ key: { ...jwk }, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, parsed.signature)).toBe(true);
  });

  it('makes codes of about 400 QR alphanumeric characters that parse back to credential, step and signature', () => {
    const issued = credentials.issue({ accountId: ACCOUNT, mediumId: MEDIUM, riderCategory: 'adult', categoryValidUntil: null, phoneKey: credentials.publicKeyPoint(phone.publicJwk) }, NOW);
    const code = phone.codeForStep(issued.credential, 123_456_789);
    expect(code.startsWith(DYNAMIC_QR_PREFIX)).toBe(true);
    expect(code).toMatch(/^[0-9A-Z $%*+\-./:]+$/);
    // 180 bytes of credential with a 4-character kid, 68 of step and signature: 248 bytes, 372 characters and the prefix.
    expect(code.length).toBe(DYNAMIC_QR_PREFIX.length + (248 * 3) / 2);
    const parsed = parseCode(code)!;
    expect(parsed.credential.toString('base64url')).toBe(issued.credential);
    expect(parsed.step).toBe(123_456_789);
    expect(parseCode(code.slice(0, -3))).toBeUndefined();
    expect(parseCode(`${code}000`)).toBeUndefined();
    expect(parseCode(code.replace(DYNAMIC_QR_PREFIX, 'LT2:'))).toBeUndefined();
  });
});
