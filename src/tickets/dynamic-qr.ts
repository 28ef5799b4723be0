import { Inject, Injectable } from '@nestjs/common';
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { RIDER_CATEGORIES, type RiderCategory } from '../fares/rider-category';
import { base45Decode, base45Encode } from './base45';
import { toLowS } from './qr-signature';
import { QrTokens } from './qr-tokens';

/**
 * The app's dynamic QR (README "The dynamic QR, for validator vendors" is its specification).
 *
 * A credential, issued once for the phone's P-256 key and valid for days, in a fixed binary layout
 * (integers big-endian):
 *   version 1 (1 byte) | kid length k (1) | kid (k, ASCII) | account id (16, UUID) | medium id (16, UUID)
 *   | rider category code (1, RIDER_CATEGORY_CODES) | category valid until (4, epoch s, 0: no end)
 *   | not before (4, epoch s) | expires (4, epoch s) | phone key (65, SEC1 uncompressed point 04‖X‖Y)
 *   | issuer signature (64, ES256 r‖s with low S, over every byte before it, by the QR key `kid`)
 * The code the app shows, a new one every time step:
 *   credential | step (4, floor(unix time / step seconds)) | phone signature (64, ES256 r‖s with low S,
 *   over credential ‖ step, by the phone key inside the credential)
 * as text: DYNAMIC_QR_PREFIX + base45 (RFC 9285) of those bytes, all of it QR alphanumeric mode.
 * A credential's first byte (1) can never begin a JWS signing input (base64url text), so the issuer's
 * signatures over credentials and over ticket tokens cannot stand in for each other.
 */
export const DYNAMIC_QR_PREFIX = 'LT1:';
export const DYNAMIC_QR_VERSION = 1;

/** Rider categories as one byte: published, never renumbered. */
export const RIDER_CATEGORY_CODES: Readonly<Record<RiderCategory, number>> = {
  adult: 0,
  priority: 1,
  elderly: 2,
  disabled: 3,
  meritorious: 4,
  poor_household: 5,
  child: 6,
};
const CATEGORY_BY_CODE: readonly RiderCategory[] = RIDER_CATEGORIES.slice().sort((a, b) => RIDER_CATEGORY_CODES[a] - RIDER_CATEGORY_CODES[b]);

const UUID_BYTES = 16;
const POINT_BYTES = 65;
const SIGNATURE_BYTES = 64;
const STEP_BYTES = 4;
const MAX_KID_BYTES = 64;
/** Every byte of a credential but its kid. */
const FIXED_CREDENTIAL_BYTES = 1 + 1 + UUID_BYTES * 2 + 1 + 4 * 3 + POINT_BYTES + SIGNATURE_BYTES;
/** What a code adds to its credential. */
const CODE_TAIL_BYTES = STEP_BYTES + SIGNATURE_BYTES;
/** The longest code text: a credential with the longest kid, in base45 (3 characters per 2 bytes), with the prefix. */
export const MAX_DYNAMIC_QR_LENGTH = DYNAMIC_QR_PREFIX.length + Math.ceil(((FIXED_CREDENTIAL_BYTES + MAX_KID_BYTES + CODE_TAIL_BYTES) * 3) / 2);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY_SECONDS = 24 * 60 * 60;

/** What a credential says. Times are epoch seconds. */
export interface DynamicQrCredentialFields {
  readonly kid: string;
  readonly accountId: string;
  readonly mediumId: string;
  readonly riderCategory: RiderCategory;
  /** 0: the category has no end. */
  readonly categoryValidUntil: number;
  readonly notBefore: number;
  readonly expiresAt: number;
  /** SEC1 uncompressed point, 65 bytes. */
  readonly phoneKey: Buffer;
}

export interface ParsedCredential extends DynamicQrCredentialFields {
  /** The bytes the issuer signed: the credential without its signature. */
  readonly signed: Buffer;
  readonly signature: Buffer;
}

export interface ParsedCode {
  readonly credential: Buffer;
  readonly step: number;
  /** The bytes the phone signed: credential ‖ step. */
  readonly signed: Buffer;
  readonly phoneSignature: Buffer;
}

/** The credential's bytes before its signature. */
export function credentialBody(fields: DynamicQrCredentialFields): Buffer {
  const kid = Buffer.from(fields.kid, 'latin1');
  if (!/^[\x21-\x7e]+$/.test(fields.kid) || kid.length > MAX_KID_BYTES) throw new Error(`a dynamic QR kid must be 1 to ${MAX_KID_BYTES} printable ASCII characters`);
  if (fields.phoneKey.length !== POINT_BYTES || fields.phoneKey[0] !== 4) throw new Error('the phone key must be an uncompressed P-256 point');
  const body = Buffer.alloc(FIXED_CREDENTIAL_BYTES + kid.length - SIGNATURE_BYTES);
  let at = body.writeUInt8(DYNAMIC_QR_VERSION, 0);
  at = body.writeUInt8(kid.length, at);
  at += kid.copy(body, at);
  at += uuidBytes(fields.accountId).copy(body, at);
  at += uuidBytes(fields.mediumId).copy(body, at);
  at = body.writeUInt8(RIDER_CATEGORY_CODES[fields.riderCategory], at);
  at = body.writeUInt32BE(fields.categoryValidUntil, at);
  at = body.writeUInt32BE(fields.notBefore, at);
  at = body.writeUInt32BE(fields.expiresAt, at);
  fields.phoneKey.copy(body, at);
  return body;
}

/** A credential's fields, or undefined when its bytes do not follow the layout (signature not checked). */
export function parseCredential(bytes: Buffer): ParsedCredential | undefined {
  if (bytes.length < FIXED_CREDENTIAL_BYTES + 1 || bytes[0] !== DYNAMIC_QR_VERSION) return undefined;
  const kidLength = bytes[1];
  if (kidLength === 0 || kidLength > MAX_KID_BYTES || bytes.length !== FIXED_CREDENTIAL_BYTES + kidLength) return undefined;
  let at = 2;
  const kid = bytes.toString('latin1', at, (at += kidLength));
  const accountId = uuidText(bytes, at);
  const mediumId = uuidText(bytes, (at += UUID_BYTES));
  const riderCategory = CATEGORY_BY_CODE[bytes[(at += UUID_BYTES)]];
  at += 1;
  if (riderCategory === undefined) return undefined;
  const categoryValidUntil = bytes.readUInt32BE(at);
  const notBefore = bytes.readUInt32BE((at += 4));
  const expiresAt = bytes.readUInt32BE((at += 4));
  const phoneKey = bytes.subarray((at += 4), (at += POINT_BYTES));
  if (phoneKey[0] !== 4) return undefined;
  return { kid, accountId, mediumId, riderCategory, categoryValidUntil, notBefore, expiresAt, phoneKey, signed: bytes.subarray(0, at), signature: bytes.subarray(at) };
}

/** A code's parts, or undefined when the text is not a dynamic QR's (nothing verified). */
export function parseCode(text: string): ParsedCode | undefined {
  if (text.length > MAX_DYNAMIC_QR_LENGTH || !text.startsWith(DYNAMIC_QR_PREFIX)) return undefined;
  const bytes = base45Decode(text, DYNAMIC_QR_PREFIX.length);
  if (!bytes || bytes.length < 2) return undefined;
  const credentialLength = FIXED_CREDENTIAL_BYTES + bytes[1];
  if (bytes.length !== credentialLength + CODE_TAIL_BYTES) return undefined;
  const signedLength = credentialLength + STEP_BYTES;
  return {
    credential: bytes.subarray(0, credentialLength),
    step: bytes.readUInt32BE(credentialLength),
    signed: bytes.subarray(0, signedLength),
    phoneSignature: bytes.subarray(signedLength),
  };
}

/** What the phone signs for a step: credential ‖ step. */
export function codeSigningInput(credential: Buffer, step: number): Buffer {
  const input = Buffer.alloc(credential.length + STEP_BYTES);
  credential.copy(input);
  input.writeUInt32BE(step, credential.length);
  return input;
}

/** The code's text from what the phone signed and its signature. */
export function encodeCode(signed: Buffer, phoneSignature: Buffer): string {
  return DYNAMIC_QR_PREFIX + base45Encode(Buffer.concat([signed, phoneSignature]));
}

/** What the app does every step: the code for `step`, signed with the phone's private key (low S). Tests, vectors and the bench use it. */
export function signCode(credential: Buffer, step: number, phoneKey: KeyObject): string {
  const signed = codeSigningInput(credential, step);
  return encodeCode(signed, toLowS(sign('sha256', signed, { key: phoneKey, dsaEncoding: 'ieee-p1363' })));
}

/** The time step of an instant (epoch ms). */
export function stepAt(epochMs: number, stepSeconds: number): number {
  return Math.floor(epochMs / 1000 / stepSeconds);
}

/** What the app is given for its phone key. */
export interface IssuedDynamicQrCredential {
  /** The credential's bytes, base64url: the app puts them at the start of every code. */
  readonly credential: string;
  readonly expiresAt: Date;
  readonly stepSeconds: number;
  readonly windowSteps: number;
}

export interface DynamicQrCredentialRequest {
  readonly accountId: string;
  readonly mediumId: string;
  readonly riderCategory: RiderCategory;
  /** When the rider category ends (a concession's end, a sixth birthday), or null. */
  readonly categoryValidUntil: Date | null;
  /** The phone key, as publicKeyPoint gave it. */
  readonly phoneKey: Buffer;
}

/**
 * Issues dynamic QR credentials, signed with the QR signing key that signs tickets (the same `kid`
 * in GET /v1/keys). The media module registers an app medium with it: publicKeyPoint first (a bad
 * key is refused before anything is stored), then issue for the new medium.
 */
@Injectable()
export class DynamicQrCredentials {
  private readonly validitySeconds: number;
  private readonly stepSeconds: number;
  private readonly windowSteps: number;

  constructor(
    private readonly qrTokens: QrTokens,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'tickets'>,
  ) {
    this.validitySeconds = config.tickets.dynamicQr.credentialDays * DAY_SECONDS;
    this.stepSeconds = config.tickets.dynamicQr.stepSeconds;
    this.windowSteps = config.tickets.dynamicQr.windowSteps;
  }

  /**
   * The phone's public key from its JWK (`{kty: "EC", crv: "P-256", x, y}`, as WebCrypto exports it)
   * as an uncompressed point. 400 INVALID_PUBLIC_KEY for another shape, 422 for a private key or a
   * point that is not on the curve.
   */
  publicKeyPoint(jwk: unknown): Buffer {
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw badKey('invalid', 'must be a JWK object');
    const key = jwk as Record<string, unknown>;
    if ('d' in key) throw badKey('refused', 'holds a private key: send the public key only, and keep the private key on the phone');
    if (key.kty !== 'EC' || key.crv !== 'P-256') throw badKey('invalid', 'must be an EC key on P-256 (kty "EC", crv "P-256")');
    if (key.alg !== undefined && key.alg !== 'ES256') throw badKey('invalid', 'alg must be ES256 when given');
    const x = coordinate(key.x);
    const y = coordinate(key.y);
    if (!x || !y) throw badKey('invalid', 'x and y must be 32 bytes each, base64url without padding');
    try {
      createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: key.x as string, y: key.y as string }, format: 'jwk' });
    } catch {
      throw badKey('refused', 'is not a point on P-256');
    }
    return Buffer.concat([Buffer.of(4), x, y]);
  }

  issue(request: DynamicQrCredentialRequest, now = new Date()): IssuedDynamicQrCredential {
    const notBefore = Math.floor(now.getTime() / 1000);
    const expiresAt = notBefore + this.validitySeconds;
    const categoryValidUntil = request.categoryValidUntil === null ? 0 : Math.floor(request.categoryValidUntil.getTime() / 1000);
    const signing = this.qrTokens.signingKeyId();
    const body = credentialBody({ kid: signing, accountId: request.accountId, mediumId: request.mediumId, riderCategory: request.riderCategory, categoryValidUntil, notBefore, expiresAt, phoneKey: request.phoneKey });
    const credential = Buffer.concat([body, this.qrTokens.signBytes(body)]);
    return { credential: credential.toString('base64url'), expiresAt: new Date(expiresAt * 1000), stepSeconds: this.stepSeconds, windowSteps: this.windowSteps };
  }
}

function coordinate(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64url');
  return bytes.length === 32 && bytes.toString('base64url') === value ? bytes : undefined;
}

function badKey(kind: 'invalid' | 'refused', problem: string): DomainError {
  return new DomainError(kind, 'INVALID_PUBLIC_KEY', `The phone's public key ${problem}`, [{ field: 'publicKey', problem }]);
}

function uuidBytes(id: string): Buffer {
  if (!UUID.test(id)) throw new Error(`${id} is not a UUID`);
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}

function uuidText(bytes: Buffer, at: number): string {
  const hex = bytes.toString('hex', at, at + UUID_BYTES);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
