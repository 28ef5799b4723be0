/** The contract's reason codes for a tap's verdict. */
export const REASON_CODES = [
  'OK',
  'INVALID_QR',
  'EXPIRED',
  'NOT_YET_VALID',
  'REVOKED',
  'ALREADY_USED',
  'PASSBACK',
  'NO_ENTRY',
  'NOT_COVERED',
  'INSUFFICIENT_BALANCE',
  'UNDERPAID',
  /** The device sent this tapId before with another tap (another rider, direction or station): nothing changed. */
  'TAP_ID_REUSED',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];
