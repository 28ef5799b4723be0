import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits: far beyond guessing, so a fast hash is enough to keep it out of the database. */
export function newDeviceSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashDeviceSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function deviceSecretMatches(secret: string, storedHash: Buffer): boolean {
  const hash = hashDeviceSecret(secret);
  return hash.length === storedHash.length && timingSafeEqual(hash, storedHash);
}
