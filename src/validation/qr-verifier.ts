import { Inject, Injectable } from '@nestjs/common';
import { verify as verifySignature, type KeyObject } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { RIDER_CATEGORIES, type RiderCategory } from '../fares/rider-category';
import { TRANSPORT_MODES, type TransportMode } from '../network/hanoi-network';
import { loadOrCreateDevQrKey } from '../tickets/qr-dev-key';
import { hasLowS } from '../tickets/qr-signature';

/** What a verified QR token says (claim names as src/tickets/qr-tokens.ts writes them). */
export interface QrClaims {
  /** Ticket or account id. */
  readonly sub: string;
  readonly kind: 'single' | 'pass' | 'payg';
  readonly riderCategory: RiderCategory;
  readonly modes: readonly TransportMode[];
  /** null: every line of the modes. */
  readonly lineIds: readonly string[] | null;
  readonly originStationId: string | null;
  readonly destinationStationId: string | null;
  /** Epoch ms; 0 when the token has no start. */
  readonly notBefore: number;
  readonly expiresAt: number;
  /** An account's QR: when its rider category ends (epoch ms; from then on the rider pays as adult); absent: no end. */
  readonly categoryEndsAt?: number;
}

export type QrCheck = { ok: true; claims: QrClaims } | { ok: false };

const INVALID: QrCheck = { ok: false };
const MAX_TOKEN_LENGTH = 2048;
/** 64 bytes (r and s of P-256) in unpadded base64url. */
const ES256_SIGNATURE_BASE64URL_LENGTH = 86;
const RIDER_CATEGORY_SET: ReadonlySet<string> = new Set(RIDER_CATEGORIES);
const MODE_SET: ReadonlySet<string> = new Set(TRANSPORT_MODES);
/** Distinct token headers remembered at most; a header is remembered only once a token with it verified. */
export const MAX_CACHED_QR_HEADERS = 64;

/**
 * Verifies QR tokens (compact JWTs, ES256 with a `kid`) with the public keys the tickets module
 * signs with, from the same configuration. Built for the gate path: the keys are KeyObjects made
 * once, a token's header is looked up by its exact text (every token of one key has the same
 * header; a header is remembered only after a signature with it verified, and at most
 * MAX_CACHED_QR_HEADERS of them), and nothing is allocated beyond the signature check and the claims.
 */
@Injectable()
export class QrVerifier {
  private readonly keysByKid = new Map<string, KeyObject>();
  private readonly keysByHeader = new Map<string, KeyObject>();

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'tickets'>) {
    const keys = config.tickets.qrSigningKeys ?? [loadOrCreateDevQrKey(config.tickets.qrDevKeyFile)];
    for (const key of keys) this.keysByKid.set(key.kid, key.publicKey);
  }

  check(token: string): QrCheck {
    if (token.length > MAX_TOKEN_LENGTH) return INVALID;
    const firstDot = token.indexOf('.');
    const secondDot = token.indexOf('.', firstDot + 1);
    if (firstDot <= 0 || secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) return INVALID;
    const header = token.slice(0, firstDot);
    const cached = this.keysByHeader.get(header);
    const key = cached ?? this.keyFor(header);
    if (!key) return INVALID;
    // Only the canonical spelling of the signature: Node's decoder also takes '+' and '/' and ignores the
    // last character's spare bits, so one signature would otherwise have several accepted spellings.
    const encodedSignature = token.slice(secondDot + 1);
    if (encodedSignature.length !== ES256_SIGNATURE_BASE64URL_LENGTH) return INVALID;
    const signature = Buffer.from(encodedSignature, 'base64url');
    if (signature.length !== 64 || signature.toString('base64url') !== encodedSignature) return INVALID;
    // Low S only: (r, n − s) verifies as well, and would be a second spelling of the same signature.
    if (!hasLowS(signature)) return INVALID;
    const signed = Buffer.from(token.slice(0, secondDot), 'latin1');
    if (!verifySignature('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, signature)) return INVALID;
    // Remembered only now that a token with this header verified, and only so many: made-up headers cannot grow it.
    if (!cached && this.keysByHeader.size < MAX_CACHED_QR_HEADERS) this.keysByHeader.set(header, key);
    const claims = toClaims(parseJson(Buffer.from(token.slice(firstDot + 1, secondDot), 'base64url').toString('utf8')));
    return claims ? { ok: true, claims } : INVALID;
  }

  /** The public QR key named `kid` (the JWKS's), for the dynamic QR's credentials. */
  publicKey(kid: string): KeyObject | undefined {
    return this.keysByKid.get(kid);
  }

  /** How many token headers are remembered (tests). */
  get cachedHeaders(): number {
    return this.keysByHeader.size;
  }

  private keyFor(header: string): KeyObject | undefined {
    const parsed = parseJson(Buffer.from(header, 'base64url').toString('utf8'));
    if (!isRecord(parsed) || parsed.alg !== 'ES256' || typeof parsed.kid !== 'string') return undefined;
    return this.keysByKid.get(parsed.kid);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value) : undefined;
}

function toClaims(payload: unknown): QrClaims | undefined {
  if (!isRecord(payload)) return undefined;
  const { sub, typ, knd, rc, exp } = payload;
  if (typeof sub !== 'string' || sub === '' || typeof rc !== 'string' || !RIDER_CATEGORY_SET.has(rc) || typeof exp !== 'number') return undefined;
  const notBefore = typeof payload.nbf === 'number' ? payload.nbf * 1000 : 0;
  if (typ === 'account' && knd === 'payg') {
    const categoryEnd = typeof payload.rcu === 'number' ? { categoryEndsAt: payload.rcu * 1000 } : {};
    return { sub, kind: 'payg', riderCategory: rc as RiderCategory, modes: TRANSPORT_MODES, lineIds: null, originStationId: null, destinationStationId: null, notBefore, expiresAt: exp * 1000, ...categoryEnd };
  }
  if (typ !== 'ticket' || (knd !== 'single' && knd !== 'pass')) return undefined;
  const modes = stringList(payload.md);
  const lineIds = payload.ln === undefined ? null : stringList(payload.ln);
  if (!modes || !modes.every((mode) => MODE_SET.has(mode)) || lineIds === undefined) return undefined;
  const origin = typeof payload.org === 'string' ? payload.org : null;
  const destination = typeof payload.dst === 'string' ? payload.dst : null;
  if (knd === 'single' && (origin === null || destination === null)) return undefined;
  return {
    sub,
    kind: knd,
    riderCategory: rc as RiderCategory,
    modes: modes as TransportMode[],
    lineIds,
    originStationId: origin,
    destinationStationId: destination,
    notBefore,
    expiresAt: exp * 1000,
  };
}
