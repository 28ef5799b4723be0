import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import jwt from 'jsonwebtoken';
import { AccessTokens } from '../accounts/access-tokens';
import { AccountsService } from '../accounts/accounts.service';
import { DisabledDevices } from '../devices/disabled-devices';
import { ACCESS_METADATA, type AccessRule } from './access.decorator';
import type { AuthUser } from './auth-user';
import { DomainError } from './domain-error';

/** Verified validator tokens kept at most; a full cache starts over (devices then verify once more). */
const MAX_CACHED_DEVICE_TOKENS = 20_000;

interface GuardedRequest {
  headers: { authorization?: string };
  user?: AuthUser;
}

/**
 * Enforces each route's @Public() or @Roles(...). A route that declares neither is refused: access
 * must be a decision, never a default. On public routes a valid bearer token still identifies the
 * caller; a missing, expired or otherwise bad one is ignored there (the caller is anonymous), so that
 * a client holding a stale token can still log in, refresh and read public data.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly logger = new Logger(AccessGuard.name);
  /** The gate path's fast path: a device sends the same token with every tap until it expires. */
  private readonly deviceTokens = new Map<string, { user: AuthUser; expiresAt: number }>();

  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: AccessTokens,
    private readonly accounts: AccountsService,
    private readonly disabledDevices: DisabledDevices,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [context.getHandler(), context.getClass()]);
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    if (!rule) {
      this.logger.error(`${context.getClass().name}.${context.getHandler().name} declares neither @Public() nor @Roles(); refused`);
      throw new DomainError('forbidden', 'FORBIDDEN', 'This route is closed');
    }
    const token = bearerToken(request.headers.authorization);
    if (rule.public) {
      if (token !== undefined) request.user = await this.authenticate(token).catch(ignoreDomainError);
      return true;
    }
    if (token === undefined) throw new DomainError('unauthenticated', 'UNAUTHENTICATED', 'Send Authorization: Bearer <access token>');
    const user = await this.authenticate(token);
    if (!rule.roles.includes(user.role)) throw new DomainError('forbidden', 'FORBIDDEN', 'Your role may not call this route');
    request.user = user;
    return true;
  }

  /** Validators cost a signature check (once per token) and a Set lookup, no I/O; people one query, so revocations and approvals apply at once. */
  private async authenticate(token: string): Promise<AuthUser> {
    const cached = this.deviceTokens.get(token);
    if (cached && cached.expiresAt > Date.now()) {
      this.disabledDevices.assertEnabled(cached.user.id);
      return cached.user;
    }
    const claims = this.tokens.verify(token);
    if (claims.subject === 'account') return this.accounts.authenticate(claims);
    this.disabledDevices.assertEnabled(claims.deviceId);
    const user: AuthUser = {
      id: claims.deviceId,
      role: 'validator',
      operatorId: claims.operatorId,
      lineId: claims.lineId,
      ...(claims.stationId === null ? {} : { stationId: claims.stationId }),
    };
    const { exp } = jwt.decode(token, { json: true }) ?? {};
    if (typeof exp === 'number') {
      if (this.deviceTokens.size >= MAX_CACHED_DEVICE_TOKENS) this.deviceTokens.clear();
      this.deviceTokens.set(token, { user: Object.freeze(user), expiresAt: exp * 1000 });
    }
    return user;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1];
}

function ignoreDomainError(error: unknown): undefined {
  if (error instanceof DomainError) return undefined;
  throw error;
}
