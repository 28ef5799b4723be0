/**
 * `npm run dynamic-qr:vectors`: writes test/fixtures/dynamic-qr-vectors.json, the test vectors of the
 * app's dynamic QR for validator vendors (README "The dynamic QR, for validator vendors"): a JWKS, a
 * fixed phone key, a credential and codes at given times with the result a validator must reach.
 * The issuer key is made afresh on every run (only its public half is published), so signatures
 * differ from run to run; every run's file is equally valid.
 */
import { createPrivateKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/config';
import { DYNAMIC_QR_PREFIX, DynamicQrCredentials, RIDER_CATEGORY_CODES, encodeCode, parseCode, signCode, stepAt } from '../tickets/dynamic-qr';
import { flipS } from '../tickets/qr-signature';
import { QrTokens } from '../tickets/qr-tokens';
import { runCommand } from './run-command';

export const VECTORS_FILE = join(__dirname, '..', '..', 'test', 'fixtures', 'dynamic-qr-vectors.json');

/** Test keys only: published with the vectors so that app makers can reproduce the phone's signatures. */
const PHONE_KEY: JsonWebKey = { kty: 'EC', crv: 'P-256', x: 'Fx4hR5oOIXfa2EOtZxiZ4XE6sqjKciJpNO1AN_d-fuQ', y: 'NM6yaZF1fgs3I27yIgFLMbhHSerYlata3IFhCPsuwtA', d: 'VU6B_XmwVon-0ISP88BwzT9wf8qzLgGkwAERXnX3vIw' };
const OTHER_PHONE_KEY: JsonWebKey = { kty: 'EC', crv: 'P-256', x: 'jLtYGcTCvG1RzsYhlAhhqFLk5zxtpP0IvUqrmqsFv3w', y: 'TlI734kJqaSDdLK3M6gItKibR3JmBZCPPZlsen2JWqI', d: 'xd-EzVXoqa-gVPC0yFqxlRr19Cw4UA2UxonI20_mOeg' };
const ACCOUNT_ID = '5d3c1b2a-7e6f-4a90-8b1c-2d3e4f506172';
const MEDIUM_ID = '9a8b7c6d-5e4f-4321-8fed-cba987654321';
const ISSUED_AT = new Date('2026-12-01T00:00:00Z');
const CATEGORY_VALID_UNTIL = new Date('2027-12-31T17:00:00Z');
/** The time most codes are verified at: 7 s into its step. */
const VERIFIED_AT = Date.parse('2026-12-07T01:00:07Z');
const STEP_SECONDS = 15;
const WINDOW_STEPS = 2;
const CREDENTIAL_DAYS = 30;

export type VectorResult = 'OK' | 'INVALID_QR' | 'STALE_CODE' | 'EXPIRED' | 'NOT_YET_VALID';

export interface VectorCase {
  name: string;
  description: string;
  code: string;
  /** The validator's clock when it reads the code. */
  verifiedAt: string;
  expected: { result: VectorResult; step?: number; accountId?: string; mediumId?: string; riderCategory?: string };
}

function issuer(kid: string): { tokens: QrTokens; credentials: DynamicQrCredentials } {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
  const config = loadConfig({
    QR_SIGNING_KEYS: `${kid}:${key}`,
    DYNAMIC_QR_CREDENTIAL_DAYS: String(CREDENTIAL_DAYS),
    DYNAMIC_QR_STEP_SECONDS: String(STEP_SECONDS),
    DYNAMIC_QR_WINDOW_STEPS: String(WINDOW_STEPS),
  });
  const tokens = new QrTokens(config);
  return { tokens, credentials: new DynamicQrCredentials(tokens, config) };
}

export function generateVectors(): object {
  const { tokens, credentials } = issuer('lt-qr-2026');
  const phone = createPrivateKey({ key: PHONE_KEY, format: 'jwk' });
  const otherPhone = createPrivateKey({ key: OTHER_PHONE_KEY, format: 'jwk' });
  const phonePublic = { kty: PHONE_KEY.kty, crv: PHONE_KEY.crv, x: PHONE_KEY.x, y: PHONE_KEY.y };
  const request = { accountId: ACCOUNT_ID, mediumId: MEDIUM_ID, riderCategory: 'poor_household' as const, categoryValidUntil: CATEGORY_VALID_UNTIL, phoneKey: credentials.publicKeyPoint(phonePublic) };
  const credential = Buffer.from(credentials.issue(request, ISSUED_AT).credential, 'base64url');
  const step = stepAt(VERIFIED_AT, STEP_SECONDS);
  const at = (ms: number) => new Date(ms).toISOString();
  const code = (forStep: number, key = phone, bytes = credential) => signCode(bytes, forStep, key);
  const ok = (forStep: number) => ({ result: 'OK' as const, step: forStep, accountId: ACCOUNT_ID, mediumId: MEDIUM_ID, riderCategory: 'poor_household' });

  const fresh = code(step);
  const parsed = parseCode(fresh)!;
  const tampered = Buffer.from(credential);
  tampered[2 + 'lt-qr-2026'.length + 32] = RIDER_CATEGORY_CODES.adult;
  const unknownIssuer = issuer('lt-qr-unknown').credentials;
  const foreign = Buffer.from(unknownIssuer.issue({ ...request, phoneKey: unknownIssuer.publicKeyPoint(phonePublic) }, ISSUED_AT).credential, 'base64url');
  const expiresAt = ISSUED_AT.getTime() + CREDENTIAL_DAYS * 86_400_000;
  const afterExpiry = expiresAt + 60_000;
  const beforeIssue = ISSUED_AT.getTime() - 60_000;

  const cases: VectorCase[] = [
    { name: 'current-step', description: 'a code of the validator\'s own step', code: fresh, verifiedAt: at(VERIFIED_AT), expected: ok(step) },
    { name: 'two-steps-old', description: 'the oldest step still inside the window', code: code(step - 2), verifiedAt: at(VERIFIED_AT), expected: ok(step - 2) },
    { name: 'two-steps-ahead', description: 'a phone clock ahead: the newest step inside the window', code: code(step + 2), verifiedAt: at(VERIFIED_AT), expected: ok(step + 2) },
    { name: 'three-steps-old', description: 'a replay (a screenshot) just outside the window', code: code(step - 3), verifiedAt: at(VERIFIED_AT), expected: { result: 'STALE_CODE', step: step - 3 } },
    { name: 'an-hour-later', description: 'the current-step code read again an hour later', code: fresh, verifiedAt: at(VERIFIED_AT + 3600_000), expected: { result: 'STALE_CODE', step } },
    { name: 'three-steps-ahead', description: 'a step too far in the future', code: code(step + 3), verifiedAt: at(VERIFIED_AT), expected: { result: 'STALE_CODE', step: step + 3 } },
    { name: 'wrong-phone', description: "this credential with another phone's signature: a copied credential without the phone's private key", code: code(step, otherPhone), verifiedAt: at(VERIFIED_AT), expected: { result: 'INVALID_QR' } },
    { name: 'high-s-phone-signature', description: 'the phone signature with s replaced by n − s: verifies mathematically, refused (low S only)', code: encodeCode(parsed.signed, flipS(parsed.phoneSignature)), verifiedAt: at(VERIFIED_AT), expected: { result: 'INVALID_QR' } },
    { name: 'tampered-category', description: 'the rider category byte changed to adult (and the code re-signed by the phone): the issuer signature fails', code: code(step, phone, tampered), verifiedAt: at(VERIFIED_AT), expected: { result: 'INVALID_QR' } },
    { name: 'unknown-kid', description: 'a credential signed by a key the JWKS does not hold', code: code(step, phone, foreign), verifiedAt: at(VERIFIED_AT), expected: { result: 'INVALID_QR' } },
    { name: 'truncated', description: 'the last three characters cut', code: fresh.slice(0, -3), verifiedAt: at(VERIFIED_AT), expected: { result: 'INVALID_QR' } },
    { name: 'not-base45', description: 'a lowercase character: not QR alphanumeric, not base45', code: `${fresh.slice(0, 10)}a${fresh.slice(11)}`, verifiedAt: at(VERIFIED_AT), expected: { result: 'INVALID_QR' } },
    { name: 'credential-expired', description: 'a fresh code after the credential expired', code: code(stepAt(afterExpiry, STEP_SECONDS)), verifiedAt: at(afterExpiry), expected: { result: 'EXPIRED', step: stepAt(afterExpiry, STEP_SECONDS) } },
    { name: 'credential-not-yet-valid', description: 'a fresh code before the credential starts', code: code(stepAt(beforeIssue, STEP_SECONDS)), verifiedAt: at(beforeIssue), expected: { result: 'NOT_YET_VALID', step: stepAt(beforeIssue, STEP_SECONDS) } },
  ];
  const codeBytes = credential.length + 4 + 64;
  return {
    description: "Test vectors of Liên Thông's dynamic QR (README: The dynamic QR, for validator vendors). Test keys only.",
    prefix: DYNAMIC_QR_PREFIX,
    stepSeconds: STEP_SECONDS,
    windowSteps: WINDOW_STEPS,
    jwks: tokens.jwks(),
    phoneKey: PHONE_KEY,
    otherPhoneKey: OTHER_PHONE_KEY,
    credential: {
      base64url: credential.toString('base64url'),
      hex: credential.toString('hex'),
      fields: {
        version: 1,
        kid: tokens.signingKeyId(),
        accountId: ACCOUNT_ID,
        mediumId: MEDIUM_ID,
        riderCategory: 'poor_household',
        riderCategoryCode: RIDER_CATEGORY_CODES.poor_household,
        categoryValidUntil: CATEGORY_VALID_UNTIL.getTime() / 1000,
        notBefore: ISSUED_AT.getTime() / 1000,
        expiresAt: expiresAt / 1000,
        phoneKeyHex: credentials.publicKeyPoint(phonePublic).toString('hex'),
      },
    },
    size: { credentialBytes: credential.length, codeBytes, codeCharacters: fresh.length },
    riderCategoryCodes: RIDER_CATEGORY_CODES,
    cases,
  };
}

if (require.main === module) {
  runCommand(async () => {
    writeFileSync(VECTORS_FILE, `${JSON.stringify(generateVectors(), null, 2)}\n`);
    process.stdout.write(`Wrote ${VECTORS_FILE}\n`);
  });
}
