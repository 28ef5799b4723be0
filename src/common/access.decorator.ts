import { SetMetadata } from '@nestjs/common';

export type Role = 'passenger' | 'operator' | 'admin' | 'validator' | 'support' | 'inspector';
export const ROLES: readonly Role[] = ['passenger', 'operator', 'admin', 'validator', 'support', 'inspector'];

export const ACCESS_METADATA = 'lienthong:access';

export type AccessRule = { public: true } | { public: false; roles: readonly Role[] };

/** The route may be called without credentials (a valid token, if sent, still identifies the caller). */
export const Public = () => SetMetadata(ACCESS_METADATA, { public: true } satisfies AccessRule);

/** Only callers holding one of these roles may call the route. Every route must declare Public or Roles. */
export const Roles = (...roles: Role[]) => SetMetadata(ACCESS_METADATA, { public: false, roles } satisfies AccessRule);
