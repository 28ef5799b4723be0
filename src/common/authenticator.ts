import { Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { AccessTokens } from '../accounts/access-tokens';
import { AccountsService } from '../accounts/accounts.service';
import { DisabledDevices } from '../devices/disabled-devices';
import type { Role } from './access.decorator';
import type { AuthUser } from './auth-user';
import { DomainError } from './domain-error';

/** Verified device tokens kept at most; a full cache starts over (devices then verify once more). */
const MAX_CACHED_DEVICE_TOKENS = 20_000;

/**
 * Who a bearer token belongs to. Used by the access guard on every Nest route and by the gate
 * route, which runs outside Nest's pipeline (see validation/gate.route.ts).
 */
@Injectable()
export class Authenticator {
  /** The gate path's fast path: a device sends the same token with every tap until it expires. */
  private readonly deviceTokens = new Map<string, { user: AuthUser; expiresAt: number }>();

  constructor(
    private readonly tokens: AccessTokens,
    private readonly accounts: AccountsService,
    private readonly disabledDevices: DisabledDevices,
  ) {}

  /** The caller of a protected route: 401 without a valid token, 403 for a role not in `roles`. */
  async authorize(authorization: string | undefined, roles: readonly Role[]): Promise<AuthUser> {
    const token = bearerToken(authorization);
    if (token === undefined) throw new DomainError('unauthenticated', 'UNAUTHENTICATED', 'Send Authorization: Bearer <access token>');
    const user = await this.authenticate(token);
    if (!roles.includes(user.role)) throw new DomainError('forbidden', 'FORBIDDEN', 'Your role may not call this route');
    return user;
  }

  /** Devices cost a signature check (once per token) and two in-memory lookups, no I/O; people one query, so revocations and approvals apply at once. */
  async authenticate(token: string): Promise<AuthUser> {
    const cached = this.deviceTokens.get(token);
    if (cached && cached.expiresAt > Date.now()) {
      this.disabledDevices.assertEnabled(cached.user.id, cached.user.role === 'inspector' ? 'inspector' : 'validator');
      return cached.user;
    }
    const claims = this.tokens.verify(token);
    if (claims.subject === 'account') return this.accounts.authenticate(claims);
    const user: AuthUser =
      claims.subject === 'device'
        ? {
            id: claims.deviceId,
            role: 'validator',
            device: true,
            operatorId: claims.operatorId,
            lineId: claims.lineId,
            ...(claims.stationId === null ? {} : { stationId: claims.stationId }),
          }
        : { id: claims.deviceId, role: 'inspector', device: true, operatorId: claims.operatorId };
    // A device token must name a device that exists, is not disabled, and is of the kind the token says.
    this.disabledDevices.assertEnabled(user.id, claims.subject === 'device' ? 'validator' : 'inspector');
    const { exp } = jwt.decode(token, { json: true }) ?? {};
    if (typeof exp === 'number') {
      if (this.deviceTokens.size >= MAX_CACHED_DEVICE_TOKENS) this.deviceTokens.clear();
      this.deviceTokens.set(token, { user: Object.freeze(user), expiresAt: exp * 1000 });
    }
    return user;
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1];
}
