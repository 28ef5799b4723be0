import { Inject, Injectable } from '@nestjs/common';
import { createSecretKey, KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Role } from '../common/access.decorator';
import { DomainError } from '../common/domain-error';
import type { AppConfig, AuthConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';

export type AccountRole = Exclude<Role, 'validator'>;
const ACCOUNT_ROLES: readonly string[] = ['passenger', 'operator', 'admin', 'support', 'inspector'] satisfies AccountRole[];

/** What a verified access token says: a person's session, a validator device, or an inspector's handset (a device of kind `inspector`). */
export type AccessClaims =
  | { subject: 'account'; accountId: string; sessionId: string; role: AccountRole }
  | { subject: 'device'; deviceId: string; operatorId: string; lineId: string; stationId: string | null }
  | { subject: 'handset'; deviceId: string; operatorId: string };

export interface SignedToken {
  token: string;
  expiresIn: number;
}

interface Payload {
  exp?: unknown;
  sub?: unknown;
  role?: unknown;
  sid?: unknown;
  op?: unknown;
  dev?: unknown;
  line?: unknown;
  stn?: unknown;
}

const ALGORITHM = 'HS256';

/**
 * Signs and verifies our short-lived access tokens (JWT, HS256, with kid, issuer, audience and
 * expiry). Only this service reads them, so a shared secret is enough; `kid` lets keys rotate.
 */
@Injectable()
export class AccessTokens {
  private readonly auth: AuthConfig;
  private readonly keys: ReadonlyMap<string, KeyObject>;
  private readonly signingKid: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.auth = config.auth;
    this.keys = new Map(config.auth.tokenKeys.map(({ kid, secret }) => [kid, createSecretKey(Buffer.from(secret, 'utf8'))]));
    this.signingKid = config.auth.tokenKeys[0].kid;
  }

  sign(claims: AccessClaims): SignedToken {
    const expiresIn = claims.subject === 'account' ? this.auth.accessTokenTtlSeconds : this.auth.deviceTokenTtlSeconds;
    const payload =
      claims.subject === 'account'
        ? { role: claims.role, sid: claims.sessionId }
        : claims.subject === 'device'
          ? { role: 'validator', op: claims.operatorId, line: claims.lineId, stn: claims.stationId }
          : { role: 'inspector', op: claims.operatorId, dev: true };
    const token = jwt.sign(payload, this.keys.get(this.signingKid)!, {
      algorithm: ALGORITHM,
      keyid: this.signingKid,
      issuer: this.auth.issuer,
      audience: this.auth.audience,
      subject: claims.subject === 'account' ? claims.accountId : claims.deviceId,
      expiresIn,
    });
    return { token, expiresIn };
  }

  /** The claims of a token we signed and that is still valid; 401 TOKEN_EXPIRED or TOKEN_INVALID otherwise. */
  verify(token: string): AccessClaims {
    const decoded = jwt.decode(token, { complete: true });
    const key = decoded && typeof decoded.header.kid === 'string' ? this.keys.get(decoded.header.kid) : undefined;
    if (!key) throw invalidToken();
    let payload: Payload;
    try {
      payload = jwt.verify(token, key, { algorithms: [ALGORITHM], issuer: this.auth.issuer, audience: this.auth.audience });
      // jsonwebtoken checks exp only when it is there: a token without one would never expire.
      if (typeof payload.exp !== 'number') throw invalidToken();
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw new DomainError('unauthenticated', 'TOKEN_EXPIRED', 'The access token has expired');
      throw invalidToken();
    }
    return claimsOf(payload);
  }
}

function claimsOf(payload: Payload): AccessClaims {
  const { sub, role, sid, op, dev, line, stn } = payload;
  if (typeof sub !== 'string' || sub === '') throw invalidToken();
  if (role === 'validator' && typeof op === 'string' && typeof line === 'string' && (typeof stn === 'string' || stn === null)) {
    return { subject: 'device', deviceId: sub, operatorId: op, lineId: line, stationId: stn };
  }
  if (role === 'inspector' && dev === true && typeof op === 'string' && sid === undefined) return { subject: 'handset', deviceId: sub, operatorId: op };
  if (typeof role === 'string' && ACCOUNT_ROLES.includes(role) && typeof sid === 'string') {
    return { subject: 'account', accountId: sub, sessionId: sid, role: role as AccountRole };
  }
  throw invalidToken();
}

function invalidToken(): DomainError {
  return new DomainError('unauthenticated', 'TOKEN_INVALID', 'The access token is not valid');
}
