/**
 * The one spelling of an address we store and look up: trimmed, Unicode NFC, lower case. Mail
 * providers treat the local part case-insensitively in practice, so "An@X.vn" and "an@x.vn" are one
 * account.
 */
export function normaliseEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}
