import { Inject, Injectable } from '@nestjs/common';
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { TRANSPORT_MODES } from '../network/hanoi-network';
import { DYNAMIC_QR_PREFIX, parseCode, parseCredential, stepAt } from '../tickets/dynamic-qr';
import { hasLowS } from '../tickets/qr-signature';
import { QrVerifier, type QrClaims } from './qr-verifier';

/** What a verified dynamic code says: the account's pay-as-you-go claims, and the app medium it came from. */
export interface DynamicQrClaims extends QrClaims {
  readonly kind: 'payg';
  readonly mediumId: string;
}

export type DynamicQrCheck = { ok: true; claims: DynamicQrClaims; stale: boolean } | { ok: false };

/** A credential whose issuer signature verified: its claims before and after its rider category ends, and the phone's key. */
interface VerifiedCredential {
  readonly claims: DynamicQrClaims;
  /** From categoryValidUntil on the rider pays as an adult until the app fetches a new credential. */
  readonly adultClaims: DynamicQrClaims;
  /** Epoch ms; Infinity when the category has no end. */
  readonly categoryEndsAt: number;
  readonly phoneKey: KeyObject;
}

const INVALID: DynamicQrCheck = { ok: false };
/** Credentials remembered at most (oldest forgotten first): one per rider seen recently. */
export const MAX_CACHED_CREDENTIALS = 50_000;

/**
 * Verifies the app's dynamic QR (src/tickets/dynamic-qr.ts) with nothing but the QR public keys and
 * a clock: the issuer's signature over the credential (low S, by the key its kid names), the phone's
 * signature over credential ‖ step (low S, by the key inside the credential), and the step against
 * the time of the tap. A credential is remembered once its signature verified, so a rider's later
 * taps cost one signature check (the phone's); made-up credentials are never remembered.
 * A signed code outside the window is `stale`: the gate refuses it as STALE_CODE after its tap memory
 * (a repeated tap id keeps its first verdict).
 */
@Injectable()
export class DynamicQrVerifier {
  private readonly credentials = new Map<string, VerifiedCredential>();
  private readonly stepSeconds: number;
  private readonly windowSteps: number;

  constructor(
    private readonly keys: QrVerifier,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'tickets'>,
  ) {
    this.stepSeconds = config.tickets.dynamicQr.stepSeconds;
    this.windowSteps = config.tickets.dynamicQr.windowSteps;
  }

  static isDynamic(qr: string): boolean {
    return qr.startsWith(DYNAMIC_QR_PREFIX);
  }

  /** The code's check at `at` (epoch ms): the tap's time. */
  check(text: string, at: number): DynamicQrCheck {
    const code = parseCode(text);
    if (!code) return INVALID;
    const credential = this.verifiedCredential(code.credential);
    if (!credential) return INVALID;
    if (!hasLowS(code.phoneSignature)) return INVALID;
    if (!verifySignature('sha256', code.signed, { key: credential.phoneKey, dsaEncoding: 'ieee-p1363' }, code.phoneSignature)) return INVALID;
    return {
      ok: true,
      claims: at < credential.categoryEndsAt ? credential.claims : credential.adultClaims,
      stale: Math.abs(code.step - stepAt(at, this.stepSeconds)) > this.windowSteps,
    };
  }

  /** How many credentials are remembered (tests). */
  get cachedCredentials(): number {
    return this.credentials.size;
  }

  private verifiedCredential(bytes: Buffer): VerifiedCredential | undefined {
    const cacheKey = bytes.toString('latin1');
    const cached = this.credentials.get(cacheKey);
    if (cached) return cached;
    const credential = parseCredential(bytes);
    if (!credential) return undefined;
    const issuerKey = this.keys.publicKey(credential.kid);
    if (!issuerKey || !hasLowS(credential.signature)) return undefined;
    if (!verifySignature('sha256', credential.signed, { key: issuerKey, dsaEncoding: 'ieee-p1363' }, credential.signature)) return undefined;
    let phoneKey: KeyObject;
    try {
      const point = credential.phoneKey;
      phoneKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.toString('base64url', 1, 33), y: point.toString('base64url', 33, 65) }, format: 'jwk' });
    } catch {
      return undefined;
    }
    const claims: DynamicQrClaims = {
      sub: credential.accountId,
      mediumId: credential.mediumId,
      kind: 'payg',
      riderCategory: credential.riderCategory,
      modes: TRANSPORT_MODES,
      lineIds: null,
      originStationId: null,
      destinationStationId: null,
      notBefore: credential.notBefore * 1000,
      expiresAt: credential.expiresAt * 1000,
    };
    const verified: VerifiedCredential = {
      claims,
      adultClaims: { ...claims, riderCategory: 'adult' },
      categoryEndsAt: credential.categoryValidUntil === 0 ? Infinity : credential.categoryValidUntil * 1000,
      phoneKey,
    };
    // Remembered only now that its signature verified; the oldest goes when full.
    if (this.credentials.size >= MAX_CACHED_CREDENTIALS) this.credentials.delete(this.credentials.keys().next().value!);
    this.credentials.set(cacheKey, verified);
    return verified;
  }
}
