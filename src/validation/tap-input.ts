import type { ErrorDetail } from '../common/domain-error';
import { DomainError } from '../common/domain-error';
import { BATCH_WINDOW_MS } from '../gate-state/gate-state';
import { readGateMedium, type GateMedium } from '../media/medium-kinds';

/** A tap as the service reads it (validated by hand: the gate path skips class-transformer). */
export type TapInput = TapFields & ({ qr: string; medium?: undefined } | { qr?: undefined; medium: GateMedium });

interface TapFields {
  tapId: string;
  direction: 'entry' | 'exit';
  stationId?: string;
  /** Epoch ms. */
  occurredAt?: number;
}

export const MAX_BATCH_TAPS = 500;
const TAP_FIELDS = new Set(['tapId', 'qr', 'medium', 'direction', 'stationId', 'occurredAt']);
const TAP_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const MAX_QR_LENGTH = 4096;
const STATION_ID = /^[a-z0-9-]{1,64}$/;
/** A device clock a little ahead is tolerated in a batch; a tap from further in the future is malformed. */
const CLOCK_SKEW_MS = 5 * 60_000;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An online tap: judged at the server's time `now`. A device may send its own time, but only within
 * `toleranceMs` of the server's (a tap from longer ago belongs in a batch); it does not move the verdict.
 */
export function parseTap(body: unknown, now: number, toleranceMs: number): TapInput {
  const details: ErrorDetail[] = [];
  const tap = readTap(body, '', now, details);
  if (tap?.occurredAt !== undefined && Math.abs(tap.occurredAt - now) > toleranceMs) {
    details.push({ field: 'occurredAt', problem: `is more than ${toleranceMs / 1000} s from the server's time: send older taps in a batch` });
  }
  if (!tap || details.length > 0) throw malformed(details);
  return tap;
}

/** `{taps: [...]}`: every tap needs its original time. */
export function parseBatch(body: unknown, now: number): TapInput[] {
  const details: ErrorDetail[] = [];
  if (!isRecord(body) || !Array.isArray(body.taps)) throw malformed([{ field: 'taps', problem: 'must be an array of taps' }]);
  for (const field of Object.keys(body)) if (field !== 'taps') details.push({ field, problem: 'is not allowed' });
  const raw = body.taps as unknown[];
  if (raw.length === 0 || raw.length > MAX_BATCH_TAPS) details.push({ field: 'taps', problem: `must hold 1 to ${MAX_BATCH_TAPS} taps` });
  const taps: TapInput[] = [];
  raw.forEach((item, index) => {
    const tap = readTap(item, `taps.${index}.`, now, details);
    if (tap && tap.occurredAt === undefined) details.push({ field: `taps.${index}.occurredAt`, problem: 'is required for an offline tap' });
    if (tap) taps.push(tap);
  });
  if (details.length) throw malformed(details);
  return taps;
}

function readTap(body: unknown, prefix: string, now: number, details: ErrorDetail[]): TapInput | undefined {
  if (!isRecord(body)) {
    details.push({ field: prefix.slice(0, -1) || 'body', problem: 'must be an object' });
    return undefined;
  }
  const before = details.length;
  for (const field in body) if (!TAP_FIELDS.has(field)) details.push({ field: prefix + field, problem: 'is not allowed' });
  const { tapId, qr, direction, stationId, occurredAt } = body;
  if (typeof tapId !== 'string' || !TAP_ID.test(tapId)) details.push({ field: `${prefix}tapId`, problem: 'must be 1 to 64 letters, digits or ._:-' });
  // Exactly one of qr and medium.
  let medium: GateMedium | undefined;
  if ((qr === undefined) === (body.medium === undefined)) {
    details.push({ field: `${prefix}qr`, problem: 'a tap carries either qr or medium, not both and not neither' });
  } else if (body.medium !== undefined) {
    medium = readGateMedium(body.medium, `${prefix}medium.`, details);
  } else if (typeof qr !== 'string' || qr.length === 0 || qr.length > MAX_QR_LENGTH || qr.includes('\u0000')) {
    // NUL is refused as in every other body (common/validation.pipe.ts); any other garbage is a QR that gets INVALID_QR.
    details.push({ field: `${prefix}qr`, problem: `must be a string of 1 to ${MAX_QR_LENGTH} characters, without NUL` });
  }
  if (direction !== 'entry' && direction !== 'exit') details.push({ field: `${prefix}direction`, problem: 'must be entry or exit' });
  if (stationId !== undefined && (typeof stationId !== 'string' || !STATION_ID.test(stationId))) details.push({ field: `${prefix}stationId`, problem: 'must be a station id' });
  let at: number | undefined;
  if (occurredAt !== undefined) {
    at = typeof occurredAt === 'string' && ISO_INSTANT.test(occurredAt) ? Date.parse(occurredAt) : NaN;
    if (Number.isNaN(at)) details.push({ field: `${prefix}occurredAt`, problem: 'must be an ISO 8601 instant with an offset' });
    else if (at > now + CLOCK_SKEW_MS || at < now - BATCH_WINDOW_MS) details.push({ field: `${prefix}occurredAt`, problem: 'is too far in the future or the past' });
  }
  if (details.length > before) return undefined;
  return {
    tapId: tapId as string,
    ...(medium ? { medium } : { qr: qr as string }),
    direction: direction as 'entry' | 'exit',
    ...(stationId !== undefined && { stationId: stationId as string }),
    ...(at !== undefined && { occurredAt: at }),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(details: ErrorDetail[]): DomainError {
  return new DomainError('invalid', 'VALIDATION_FAILED', 'The request is not valid', details);
}
