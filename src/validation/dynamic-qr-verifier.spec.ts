import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../config/config';
import { credentialBody, DynamicQrCredentials, encodeCode, parseCode, stepAt } from '../tickets/dynamic-qr';
import { flipS } from '../tickets/qr-signature';
import { QrTokens } from '../tickets/qr-tokens';
import { Phone } from '../../test/support/phone';
import { DynamicQrVerifier } from './dynamic-qr-verifier';
import { QrVerifier } from './qr-verifier';

const newKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
const config = loadConfig({ QR_SIGNING_KEYS: `qr-2:${newKey()}` });
const otherIssuer = loadConfig({ QR_SIGNING_KEYS: `qr-2:${newKey()}` });
const credentials = new DynamicQrCredentials(new QrTokens(config), config);
const ACCOUNT = '0b5c7a52-1d0e-4a8e-9c6b-2f1e3d4c5b6a';
const MEDIUM = 'c3d2e1f0-0a1b-4c2d-8e3f-405162738495';
const NOW = Date.parse('2026-12-07T08:00:00+07:00');
const STEP = stepAt(NOW, 15);

describe('DynamicQrVerifier', () => {
  const phone = new Phone();
  const issue = (issuer = credentials, categoryValidUntil: Date | null = null) =>
    issuer.issue({ accountId: ACCOUNT, mediumId: MEDIUM, riderCategory: 'elderly', categoryValidUntil, phoneKey: issuer.publicKeyPoint(phone.publicJwk) }, new Date(NOW - 86_400_000)).credential;
  let verifier: DynamicQrVerifier;
  beforeEach(() => {
    verifier = new DynamicQrVerifier(new QrVerifier(config), config);
  });

  it("accepts a code of this step: the account's pay-as-you-go claims from the credential, and the medium", () => {
    const check = verifier.check(phone.code(issue(), NOW), NOW);
    expect(check).toEqual({
      ok: true,
      stale: false,
      claims: expect.objectContaining({ sub: ACCOUNT, mediumId: MEDIUM, kind: 'payg', riderCategory: 'elderly', lineIds: null, expiresAt: NOW + 29 * 86_400_000 }),
    });
  });

  it('is stale outside DYNAMIC_QR_WINDOW_STEPS of the tap time, in either direction', () => {
    const credential = issue();
    const stale = (step: number) => {
      const check = verifier.check(phone.codeForStep(credential, step), NOW);
      return check.ok ? check.stale : 'invalid';
    };
    expect([STEP - 3, STEP - 2, STEP, STEP + 2, STEP + 3].map(stale)).toEqual([true, false, false, false, true]);
  });

  it("refuses a code signed by another phone's key, a high-S phone signature, and a tampered step", () => {
    const credential = issue();
    expect(verifier.check(new Phone().code(credential, NOW), NOW)).toEqual({ ok: false });
    const code = parseCode(phone.code(credential, NOW))!;
    expect(verifier.check(encodeCode(code.signed, flipS(code.phoneSignature)), NOW)).toEqual({ ok: false });
    const otherStep = Buffer.from(code.signed);
    otherStep.writeUInt32BE(STEP + 1, otherStep.length - 4);
    expect(verifier.check(encodeCode(otherStep, code.phoneSignature), NOW)).toEqual({ ok: false });
  });

  it('refuses credentials of another issuer key with the same kid, with a high-S or tampered issuer signature, truncated or garbage codes; remembers only verified ones', () => {
    expect(verifier.check(phone.code(issue(new DynamicQrCredentials(new QrTokens(otherIssuer), otherIssuer)), NOW), NOW)).toEqual({ ok: false });
    const credential = Buffer.from(issue(), 'base64url');
    const body = credential.subarray(0, credential.length - 64);
    const highS = Buffer.concat([body, flipS(credential.subarray(credential.length - 64))]);
    expect(verifier.check(phone.code(highS.toString('base64url'), NOW), NOW)).toEqual({ ok: false });
    const tampered = Buffer.from(credential);
    tampered[2 + 4 + 32] = 0; // the rider category: elderly becomes adult
    expect(verifier.check(phone.code(tampered.toString('base64url'), NOW), NOW)).toEqual({ ok: false });
    const good = phone.code(credential.toString('base64url'), NOW);
    for (const garbage of [good.slice(0, -2), good.slice(0, 200), 'LT1:', 'LT1:not base45', `${good}AB`]) expect(verifier.check(garbage, NOW)).toEqual({ ok: false });
    expect(verifier.cachedCredentials).toBe(0);
    expect(verifier.check(good, NOW).ok).toBe(true);
    expect(verifier.check(phone.code(credential.toString('base64url'), NOW + 15_000), NOW + 15_000).ok).toBe(true);
    expect(verifier.cachedCredentials).toBe(1);
  });

  it('gives the adult category once the rider category ended, and the credential validity for the gate rules', () => {
    const credential = issue(credentials, new Date(NOW + 60_000));
    const at = (time: number) => {
      const check = verifier.check(phone.code(credential, time), time);
      return check.ok ? check.claims.riderCategory : 'invalid';
    };
    expect([at(NOW), at(NOW + 60_000)]).toEqual(['elderly', 'adult']);
    const check = verifier.check(phone.code(credential, NOW), NOW);
    expect(check.ok && [check.claims.notBefore, check.claims.expiresAt]).toEqual([NOW - 86_400_000, NOW + 29 * 86_400_000]);
  });

  it('refuses a credential whose phone key is not a point of P-256, even when signed', () => {
    const tokens = new QrTokens(config);
    const offCurve = Buffer.concat([Buffer.of(4), Buffer.alloc(64, 1)]);
    const body = credentialBody({ kid: 'qr-2', accountId: ACCOUNT, mediumId: MEDIUM, riderCategory: 'adult', categoryValidUntil: 0, notBefore: NOW / 1000 - 10, expiresAt: NOW / 1000 + 100, phoneKey: offCurve });
    const credential = Buffer.concat([body, tokens.signBytes(body)]);
    const signed = Buffer.concat([credential, Buffer.alloc(4)]);
    signed.writeUInt32BE(STEP, credential.length);
    expect(verifier.check(encodeCode(signed, Buffer.alloc(64, 1)), NOW)).toEqual({ ok: false });
    expect(verifier.cachedCredentials).toBe(0);
  });
});
