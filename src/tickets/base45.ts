/**
 * Base45 (RFC 9285): bytes as text of QR alphanumeric mode, which packs 11 bits per two characters
 * (base64 in byte mode costs 8 bits per character). Two bytes become three characters, a last odd
 * byte two. Decoding is strict: one spelling per byte string (no value above 65535 in a group of
 * three or 255 in a last group of two, no group of one, only the 45 characters).
 */
export const BASE45_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

const VALUES = new Int8Array(128).fill(-1);
for (let index = 0; index < BASE45_ALPHABET.length; index++) VALUES[BASE45_ALPHABET.charCodeAt(index)] = index;

export function base45Encode(bytes: Uint8Array): string {
  let text = '';
  for (let index = 0; index + 1 < bytes.length; index += 2) {
    const n = bytes[index] * 256 + bytes[index + 1];
    text += BASE45_ALPHABET[n % 45] + BASE45_ALPHABET[Math.floor(n / 45) % 45] + BASE45_ALPHABET[Math.floor(n / 2025)];
  }
  if (bytes.length % 2 === 1) {
    const n = bytes[bytes.length - 1];
    text += BASE45_ALPHABET[n % 45] + BASE45_ALPHABET[Math.floor(n / 45)];
  }
  return text;
}

/** The bytes of `text` from character `start` on, or undefined when it is not base45. */
export function base45Decode(text: string, start = 0): Buffer | undefined {
  const length = text.length - start;
  if (length < 0 || length % 3 === 1) return undefined;
  const bytes = Buffer.allocUnsafe(Math.floor(length / 3) * 2 + (length % 3 === 2 ? 1 : 0));
  let out = 0;
  let index = start;
  for (; index + 2 < text.length; index += 3) {
    const c = digit(text, index);
    const d = digit(text, index + 1);
    const e = digit(text, index + 2);
    const n = c + d * 45 + e * 2025;
    if (c < 0 || d < 0 || e < 0 || n > 0xffff) return undefined;
    bytes[out++] = n >> 8;
    bytes[out++] = n & 0xff;
  }
  if (index < text.length) {
    const low = digit(text, index);
    const high = digit(text, index + 1);
    if (low < 0 || high < 0 || low + high * 45 > 0xff) return undefined;
    bytes[out] = low + high * 45;
  }
  return bytes;
}

function digit(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code < 128 ? VALUES[code] : -1;
}
