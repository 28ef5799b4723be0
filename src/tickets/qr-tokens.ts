import { Inject, Injectable, Logger } from '@nestjs/common';
import { sign as signBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { AppConfig, QrSigningKey } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import type { RiderCategory } from '../fares/rider-category';
import type { TransportMode } from '../network/hanoi-network';
import { loadOrCreateDevQrKey } from './qr-dev-key';
import type { JsonWebKeyDto, JsonWebKeySetDto } from './tickets.dto';
import { toLowS, withLowS } from './qr-signature';

/** What a ticket's QR says, for a gate that verifies it offline. */
export interface TicketQrClaims {
  ticketId: string;
  kind: 'single' | 'pass';
  riderCategory: RiderCategory;
  modes: readonly TransportMode[];
  lineIds: readonly string[] | null;
  originStationId: string | null;
  destinationStationId: string | null;
  validFrom: Date | null;
  validUntil: Date | null;
  /** Passes starting on first use: their length, and the latest first use. */
  validityDays: number | null;
  firstUseBy: Date | null;
}

const ALGORITHM = 'ES256';
const DAY_SECONDS = 24 * 60 * 60;

/**
 * Signs QR tokens: compact JWTs, ES256, with the signing key's `kid`. Claims are short because a
 * QR code grows with every character:
 *   sub  ticket or account id        typ  "ticket" | "account"
 *   knd  "single" | "pass" | "payg"  rc   rider category
 *   md   modes                       ln   lines (absent: every line of the modes)
 *   org, dst  single trips' stations  vd   pass length in days, when it starts on first use
 *   fub  latest first use (epoch s)   nbf, exp  the validity window (epoch s)
 * Keys are KeyObjects built once; only the first configured key signs, and every one is published.
 */
@Injectable()
export class QrTokens {
  private readonly logger = new Logger(QrTokens.name);
  private readonly signingKid: string;
  private readonly signingKey: KeyObject;
  private readonly keySet: JsonWebKeySetDto;
  private readonly accountTtlSeconds: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const keys: readonly QrSigningKey[] = config.tickets.qrSigningKeys ?? [loadOrCreateDevQrKey(config.tickets.qrDevKeyFile)];
    if (!config.tickets.qrSigningKeys) this.logger.warn(`QR codes are signed with the development key in ${config.tickets.qrDevKeyFile}`);
    const [signing] = keys;
    if (!signing?.privateKey) throw new Error('the first QR key must hold a private key');
    this.signingKid = signing.kid;
    this.signingKey = signing.privateKey;
    this.keySet = { keys: keys.map(toJwk) };
    this.accountTtlSeconds = config.tickets.accountQrTtlSeconds;
  }

  /** JWKS: the public keys that verify QR tokens. */
  jwks(): JsonWebKeySetDto {
    return this.keySet;
  }

  forTicket(ticket: TicketQrClaims, now: Date): string {
    const latestEnd = ticket.validUntil ?? addDays(ticket.firstUseBy!, ticket.validityDays!);
    return this.sign(
      {
        typ: 'ticket',
        knd: ticket.kind,
        rc: ticket.riderCategory,
        md: ticket.modes,
        ...(ticket.lineIds && { ln: ticket.lineIds }),
        ...(ticket.originStationId && { org: ticket.originStationId, dst: ticket.destinationStationId }),
        ...(ticket.validFrom ? { nbf: seconds(ticket.validFrom) } : { vd: ticket.validityDays, fub: seconds(ticket.firstUseBy!) }),
        exp: seconds(latestEnd),
        iat: seconds(now),
      },
      ticket.ticketId,
    );
  }

  /** The account's pay-as-you-go credential: fares are charged to its wallet at exit. */
  forAccount(accountId: string, riderCategory: RiderCategory, now: Date, categoryEndsAt: number | null = null): string {
    const iat = seconds(now);
    const exp = iat + this.accountTtlSeconds;
    // `rcu`: when the rider category ends, if before the token does; gates then price the rider as adult.
    const rcu = categoryEndsAt !== null && categoryEndsAt < exp * 1000 ? { rcu: Math.floor(categoryEndsAt / 1000) } : {};
    return this.sign({ typ: 'account', knd: 'payg', rc: riderCategory, ...rcu, iat, exp }, accountId);
  }

  /** The `kid` of the key that signs. */
  signingKeyId(): string {
    return this.signingKid;
  }

  /** An ES256 signature (r ‖ s, low S) of raw bytes with the signing key: dynamic QR credentials (dynamic-qr.ts). */
  signBytes(data: Buffer): Buffer {
    return toLowS(signBytes('sha256', data, { key: this.signingKey, dsaEncoding: 'ieee-p1363' }));
  }

  private sign(payload: object, subject: string): string {
    // Low S only: the verifier refuses the other spelling (n − s) of a signature (qr-signature.ts).
    return withLowS(jwt.sign(payload, this.signingKey, { algorithm: ALGORITHM, keyid: this.signingKid, subject }));
  }
}

function toJwk(key: QrSigningKey): JsonWebKeyDto {
  const jwk = key.publicKey.export({ format: 'jwk' });
  return { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y!, kid: key.kid, alg: ALGORITHM, use: 'sig' };
}

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_SECONDS * 1000);
}
