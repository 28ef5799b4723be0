import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Role } from '../../src/common/access.decorator';

export interface BearerOptions {
  /** For operator staff and validators: the operator they belong to. */
  operatorId?: string;
}

/**
 * An Authorization header value for a caller of the given role, for tests of routes guarded by
 * @Roles. PLACEHOLDER until the accounts module (issue 4) lands: no guard checks tokens yet, so
 * this returns a dummy; the accounts work replaces it with a real login or token minting.
 */
export async function bearerFor(_app: NestFastifyApplication, _role: Role, _options: BearerOptions = {}): Promise<string> {
  return 'Bearer placeholder-until-accounts-land';
}
