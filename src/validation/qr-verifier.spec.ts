import fc from 'fast-check';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { loadConfig } from '../config/config';
import { flipS, hasLowS } from '../tickets/qr-signature';
import { QrTokens } from '../tickets/qr-tokens';
import { MAX_CACHED_QR_HEADERS, QrVerifier } from './qr-verifier';

function newKeyDer(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
}

const CURRENT = newKeyDer();
const RETIRED = newKeyDer();
const config = loadConfig({ QR_SIGNING_KEYS: `qr-2:${CURRENT},qr-1:${RETIRED}` });
const tokens = new QrTokens(config);
const verifier = new QrVerifier(config);
const NOW = new Date('2026-11-22T08:00:00+07:00');

const PASS = {
  ticketId: '6f1c0c9e-0000-4000-8000-000000000001',
  kind: 'pass' as const,
  riderCategory: 'priority' as const,
  modes: ['metro' as const],
  lineIds: ['metro-2a'],
  originStationId: null,
  destinationStationId: null,
  validFrom: new Date('2026-11-22T00:00:00+07:00'),
  validUntil: new Date('2026-11-23T00:00:00+07:00'),
  validityDays: null,
  firstUseBy: null,
};
const SINGLE = { ...PASS, kind: 'single' as const, lineIds: null, originStationId: '2a-cat-linh', destinationStationId: '2a-lang' };

const segments = (token: string) => token.split('.') as [string, string, string];
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('QrVerifier', () => {
  it('reads what QrTokens signs: passes, single trips and the pay-as-you-go credential', () => {
    expect(verifier.check(tokens.forTicket(PASS, NOW))).toEqual({
      ok: true,
      claims: {
        sub: PASS.ticketId,
        kind: 'pass',
        riderCategory: 'priority',
        modes: ['metro'],
        lineIds: ['metro-2a'],
        originStationId: null,
        destinationStationId: null,
        notBefore: PASS.validFrom.getTime(),
        expiresAt: PASS.validUntil.getTime(),
      },
    });
    expect(verifier.check(tokens.forTicket(SINGLE, NOW))).toMatchObject({ ok: true, claims: { kind: 'single', originStationId: '2a-cat-linh', destinationStationId: '2a-lang', lineIds: null } });
    expect(verifier.check(tokens.forAccount('acc-1', 'elderly', NOW))).toMatchObject({
      ok: true,
      claims: { sub: 'acc-1', kind: 'payg', riderCategory: 'elderly', expiresAt: NOW.getTime() + config.tickets.accountQrTtlSeconds * 1000 },
    });
  });

  it('verifies tokens of a retired key that is still published', () => {
    const retiredOnly = new QrTokens(loadConfig({ QR_SIGNING_KEYS: `qr-1:${RETIRED}` }));
    expect(verifier.check(retiredOnly.forTicket(PASS, NOW)).ok).toBe(true);
  });

  it('refuses a forged signature, another key under a known kid, a changed payload, other algorithms and garbage', () => {
    const token = tokens.forTicket(PASS, NOW);
    const [header, payload, signature] = segments(token);
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
    const stranger = new QrTokens(loadConfig({ QR_SIGNING_KEYS: `qr-2:${newKeyDer()}` }));
    const changed = b64({ ...(jwt.decode(token) as object), md: ['metro', 'bus', 'brt'], ln: undefined });
    const hs256Header = b64({ alg: 'HS256', typ: 'JWT', kid: 'qr-2' });
    const hs256 = `${hs256Header}.${payload}.${createHmac('sha256', 'secret').update(`${hs256Header}.${payload}`).digest('base64url')}`;
    const cases = [
      `${header}.${payload}.${flipped}`,
      stranger.forTicket(PASS, NOW),
      `${header}.${changed}.${signature}`,
      `${b64({ alg: 'none', kid: 'qr-2' })}.${payload}.`,
      hs256,
      `${b64({ alg: 'ES256', kid: 'qr-9' })}.${payload}.${signature}`,
      '',
      'garbage',
      'a.b.c',
      `${token}.extra`,
      `${header}.${payload}`,
      'x'.repeat(5000),
    ];
    for (const forged of cases) expect(verifier.check(forged)).toEqual({ ok: false });
  });

  it('accepts only the canonical spelling of a signature', () => {
    const token = tokens.forTicket(PASS, NOW);
    expect(verifier.check(token).ok).toBe(true);
    const [signed, signature] = [token.slice(0, token.lastIndexOf('.')), token.slice(token.lastIndexOf('.') + 1)];
    // The base64 alphabet's '+' and '/' for base64url's '-' and '_': the same bytes to Node's decoder.
    const standardAlphabet = Buffer.from(signature, 'base64url').toString('base64').replace(/=+$/, '');
    if (standardAlphabet !== signature) expect(verifier.check(`${signed}.${standardAlphabet}`)).toEqual({ ok: false });
    // The last of 86 characters carries 2 bits and 4 spare ones: setting a spare bit keeps the bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(signature.slice(-1));
    const respelled = `${signed}.${signature.slice(0, -1)}${alphabet[last | 1]}`;
    expect(Buffer.from(respelled.slice(respelled.lastIndexOf('.') + 1), 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
    expect(verifier.check(respelled)).toEqual({ ok: false });
  });

  it('accepts none of thousands of mutated tokens (fuzz)', () => {
    const token = tokens.forTicket(PASS, NOW);
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(token.length - 1), char: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ') }), { minLength: 1, maxLength: 4 }),
        (mutations) => {
          let mutated = token;
          for (const { at, char } of mutations) mutated = mutated.slice(0, at) + char + mutated.slice(at + 1);
          // Every other string is refused, even one whose signature decodes to the same bytes.
          fc.pre(mutated !== token);
          return !verifier.check(mutated).ok;
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('accepts low-S signatures only: (r, n − s) of a valid token is refused (issue 15, finding 7)', () => {
    for (let i = 0; i < 20; i++) {
      const token = tokens.forTicket({ ...PASS, ticketId: `6f1c0c9e-0000-4000-8000-${String(i).padStart(12, '0')}` }, NOW);
      const [header, payload, signature] = segments(token);
      const bytes = Buffer.from(signature, 'base64url');
      expect(hasLowS(bytes)).toBe(true);
      expect(verifier.check(token).ok).toBe(true);
      expect(verifier.check(`${header}.${payload}.${flipS(bytes).toString('base64url')}`)).toEqual({ ok: false });
    }
  });

  it('remembers token headers only after a signature verified, and boundedly (issue 15, finding 6)', () => {
    const fresh = new QrVerifier(config);
    const [, payload, signature] = segments(tokens.forTicket(PASS, NOW));
    for (let i = 0; i < 20_000; i++) {
      expect(fresh.check(`${b64({ alg: 'ES256', kid: 'qr-2', typ: 'JWT', x: i })}.${payload}.${signature}`)).toEqual({ ok: false });
    }
    expect(fresh.cachedHeaders).toBe(0);
    expect(fresh.check(tokens.forTicket(PASS, NOW)).ok).toBe(true);
    expect(fresh.cachedHeaders).toBe(1);
    expect(fresh.cachedHeaders).toBeLessThanOrEqual(MAX_CACHED_QR_HEADERS);
  });
});
