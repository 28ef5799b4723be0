/**
 * ECDSA P-256 signatures of QR tokens in their one accepted form: low S. For a signature (r, s),
 * (r, n − s) verifies too, so without this rule every token has two spellings (malleability).
 * QrTokens signs with low S; QrVerifier refuses high S.
 */

/** The order n of P-256, and n / 2 rounded down, as 32 big-endian bytes. */
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const HALF_ORDER = Buffer.from((P256_ORDER >> 1n).toString(16).padStart(64, '0'), 'hex');

/** True when the IEEE P1363 signature (r ‖ s, 64 bytes) has s ≤ n / 2. Allocation-free: the gate path calls it per tap. */
export function hasLowS(signature: Buffer): boolean {
  // s (bytes 32..64) against n / 2, in place: no view or copy per tap.
  return signature.length === 64 && signature.compare(HALF_ORDER, 0, 32, 32, 64) <= 0;
}

/** The signature with s replaced by n − s when s is high: the same signature, in its accepted form. */
export function toLowS(signature: Buffer): Buffer {
  if (signature.length !== 64 || hasLowS(signature)) return signature;
  const s = BigInt(`0x${signature.subarray(32, 64).toString('hex')}`);
  return Buffer.concat([signature.subarray(0, 32), Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex')]);
}

/** The same signature with the other S (n − s): what an attacker would send. */
export function flipS(signature: Buffer): Buffer {
  const s = BigInt(`0x${signature.subarray(32, 64).toString('hex')}`);
  return Buffer.concat([signature.subarray(0, 32), Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex')]);
}

/** A compact JWS signed with ES256, with its signature in low-S form. */
export function withLowS(token: string): string {
  const dot = token.lastIndexOf('.');
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  if (hasLowS(signature)) return token;
  return `${token.slice(0, dot + 1)}${toLowS(signature).toString('base64url')}`;
}
