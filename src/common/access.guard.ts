import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ACCESS_METADATA, type AccessRule } from './access.decorator';
import type { AuthUser } from './auth-user';
import { Authenticator, bearerToken } from './authenticator';
import { DomainError } from './domain-error';

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

  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_METADATA, [context.getHandler(), context.getClass()]);
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    if (!rule) {
      this.logger.error(`${context.getClass().name}.${context.getHandler().name} declares neither @Public() nor @Roles(); refused`);
      throw new DomainError('forbidden', 'FORBIDDEN', 'This route is closed');
    }
    if (rule.public) {
      const token = bearerToken(request.headers.authorization);
      if (token !== undefined) request.user = await this.authenticator.authenticate(token).catch(ignoreDomainError);
      return true;
    }
    request.user = await this.authenticator.authorize(request.headers.authorization, rule.roles);
    return true;
  }
}

function ignoreDomainError(error: unknown): undefined {
  if (error instanceof DomainError) return undefined;
  throw error;
}
