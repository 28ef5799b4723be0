/**
 * A validator vendor's verifier of the dynamic QR, written from README "The dynamic QR, for validator
 * vendors" with node:crypto and the JWKS alone: nothing here comes from src/. It must reach every
 * result of test/fixtures/dynamic-qr-vectors.json. (Its base45 decoder is deliberately its own.)
 */
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Jwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
  kid: string;
}
interface Vectors {
  prefix: string;
  stepSeconds: number;
  windowSteps: number;
  jwks: { keys: Jwk[] };
  riderCategoryCodes: Record<string, number>;
  cases: Array<{ name: string; code: string; verifiedAt: string; expected: Record<string, unknown> & { result: string } }>;
}

const vectors = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'dynamic-qr-vectors.json'), 'utf8')) as Vectors;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
/** n / 2 of P-256: a signature's s must not exceed it. */
const HALF_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551') >> 1n;

function base45(text: string): Buffer | undefined {
  if (text.length % 3 === 1) return undefined;
  const out: number[] = [];
  for (let i = 0; i < text.length; i += 3) {
    const digits = [...text.slice(i, i + 3)].map((c) => ALPHABET.indexOf(c));
    if (digits.some((d) => d < 0)) return undefined;
    const n = digits.reduce((sum, d, k) => sum + d * 45 ** k, 0);
    if (digits.length === 3 ? n > 0xffff : n > 0xff) return undefined;
    if (digits.length === 3) out.push(n >> 8, n & 0xff);
    else out.push(n);
  }
  return Buffer.from(out);
}

function es256(key: ReturnType<typeof createPublicKey>, data: Buffer, signature: Buffer): boolean {
  if (BigInt(`0x${signature.subarray(32).toString('hex')}`) > HALF_N) return false;
  return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

const UUID = (b: Buffer) => b.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

/** The README's algorithm, step by step. */
function verifyCode(code: string, now: number): Record<string, unknown> {
  const invalid = { result: 'INVALID_QR' };
  // 1. The prefix, then base45.
  if (!code.startsWith(vectors.prefix)) return invalid;
  const bytes = base45(code.slice(vectors.prefix.length));
  // 2. Lengths: 176 + k bytes of credential, then 4 of step and 64 of phone signature.
  if (!bytes || bytes.length < 2 || bytes[0] !== 1) return invalid;
  const k = bytes[1];
  const c = 176 + k;
  if (bytes.length !== c + 68) return invalid;
  // 3. The issuer: the key of the JWKS named by kid, over the credential's bytes before its signature.
  const jwk = vectors.jwks.keys.find((key) => key.kid === bytes.toString('latin1', 2, 2 + k));
  if (!jwk) return invalid;
  const issuer = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });
  if (!es256(issuer, bytes.subarray(0, c - 64), bytes.subarray(c - 64, c))) return invalid;
  // 4. The phone: its key is the 65 bytes before the issuer signature; it signed credential ‖ step.
  const point = bytes.subarray(c - 129, c - 64);
  let phone;
  try {
    phone = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, format: 'jwk' });
  } catch {
    return invalid;
  }
  if (point[0] !== 4 || !es256(phone, bytes.subarray(0, c + 4), bytes.subarray(c + 4))) return invalid;
  // 5. The step against the validator's clock.
  const step = bytes.readUInt32BE(c);
  if (Math.abs(step - Math.floor(now / 1000 / vectors.stepSeconds)) > vectors.windowSteps) return { result: 'STALE_CODE', step };
  // 6. The credential's validity.
  const at = 2 + k + 32;
  const notBefore = bytes.readUInt32BE(at + 5);
  const expiresAt = bytes.readUInt32BE(at + 9);
  if (now < notBefore * 1000) return { result: 'NOT_YET_VALID', step };
  if (now >= expiresAt * 1000) return { result: 'EXPIRED', step };
  const riderCategory = Object.keys(vectors.riderCategoryCodes).find((name) => vectors.riderCategoryCodes[name] === bytes[at]);
  return { result: 'OK', step, accountId: UUID(bytes.subarray(2 + k, 2 + k + 16)), mediumId: UUID(bytes.subarray(2 + k + 16, 2 + k + 32)), riderCategory };
}

describe('the dynamic QR test vectors, verified with node:crypto and the JWKS only', () => {
  it.each(vectors.cases.map((vector) => [vector.name, vector] as const))('%s', (_name, vector) => {
    expect(verifyCode(vector.code, Date.parse(vector.verifiedAt))).toEqual(vector.expected);
  });

  it('covers every result a validator can reach', () => {
    expect(new Set(vectors.cases.map((vector) => vector.expected.result))).toEqual(new Set(['OK', 'STALE_CODE', 'INVALID_QR', 'EXPIRED', 'NOT_YET_VALID']));
  });
});
