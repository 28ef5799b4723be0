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
  /** A dynamic QR (the app's code) whose time step is outside the window around the gate's clock: a replay or a screenshot. */
  'STALE_CODE',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];
