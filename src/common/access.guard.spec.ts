import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AccessClaims, AccessTokens } from '../accounts/access-tokens';
import type { AccountsService } from '../accounts/accounts.service';
import type { DisabledDevices } from '../devices/disabled-devices';
import { deviceDisabled } from '../devices/disabled-devices';
import { Public, Roles } from './access.decorator';
import { AccessGuard } from './access.guard';
import type { AuthUser } from './auth-user';
import { Authenticator } from './authenticator';
import { DomainError } from './domain-error';

class Routes {
  @Public() open() {}
  @Roles('admin') adminOnly() {}
  @Roles('validator') gateOnly() {}
  @Roles('inspector') inspectorOnly() {}
  undeclared() {}
}

const CLAIMS: Record<string, AccessClaims> = {
  'passenger-token': { subject: 'account', accountId: 'p1', sessionId: 's1', role: 'passenger' },
  'gate-token': { subject: 'device', deviceId: 'gate-1', operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-cat-linh' },
  'disabled-gate-token': { subject: 'device', deviceId: 'gate-2', operatorId: 'hmc', lineId: 'metro-2a', stationId: null },
  'handset-token': { subject: 'handset', deviceId: 'handset-1', operatorId: 'hmc' },
  'handset-as-gate-token': { subject: 'device', deviceId: 'handset-1', operatorId: 'hmc', lineId: 'metro-2a', stationId: null },
  'gate-as-handset-token': { subject: 'handset', deviceId: 'gate-1', operatorId: 'hmc' },
};

const tokens = {
  verify: (token: string) => {
    const claims = CLAIMS[token];
    if (!claims) throw new DomainError('unauthenticated', 'TOKEN_INVALID', 'bad');
    return claims;
  },
} as unknown as AccessTokens;
const accounts = {
  authenticate: async (claims: { accountId: string }): Promise<AuthUser> => ({ id: claims.accountId, role: 'passenger', riderCategory: 'elderly' }),
} as unknown as AccountsService;
const disabledDevices = {
  assertEnabled: (id: string, role: string) => {
    if (id === 'gate-2') throw deviceDisabled();
    if (role !== (id.startsWith('handset') ? 'inspector' : 'validator')) throw new DomainError('unauthenticated', 'TOKEN_INVALID', 'bad');
  },
} as unknown as DisabledDevices;

const guard = new AccessGuard(new Reflector(), new Authenticator(tokens, accounts, disabledDevices));

async function call(handler: keyof Routes, authorization?: string): Promise<{ allowed?: boolean; code?: string; user?: AuthUser }> {
  const request: { headers: { authorization?: string }; user?: AuthUser } = { headers: authorization ? { authorization } : {} };
  const context = {
    // Nest hands guards the bare handler function, as this does.
    getHandler: () => Object.getOwnPropertyDescriptor(Routes.prototype, handler)?.value as () => void,
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  try {
    return { allowed: await guard.canActivate(context), user: request.user };
  } catch (error) {
    return { code: `${(error as DomainError).kind} ${(error as DomainError).code}` };
  }
}

describe('AccessGuard', () => {
  it('refuses a route that declares no rule, even to a valid caller', async () => {
    expect(await call('undeclared')).toEqual({ code: 'forbidden FORBIDDEN' });
    expect(await call('undeclared', 'Bearer passenger-token')).toEqual({ code: 'forbidden FORBIDDEN' });
  });

  it('lets anyone call a public route, identifying a caller with a valid token and ignoring a bad one', async () => {
    expect(await call('open')).toEqual({ allowed: true, user: undefined });
    expect(await call('open', 'Bearer passenger-token')).toEqual({ allowed: true, user: { id: 'p1', role: 'passenger', riderCategory: 'elderly' } });
    expect(await call('open', 'Bearer forged')).toEqual({ allowed: true, user: undefined });
    expect(await call('open', 'Bearer disabled-gate-token')).toEqual({ allowed: true, user: undefined });
  });

  it('asks for a token, then for the right role', async () => {
    expect(await call('adminOnly')).toEqual({ code: 'unauthenticated UNAUTHENTICATED' });
    expect(await call('adminOnly', 'passenger-token')).toEqual({ code: 'unauthenticated UNAUTHENTICATED' });
    expect(await call('adminOnly', 'Bearer forged')).toEqual({ code: 'unauthenticated TOKEN_INVALID' });
    expect(await call('adminOnly', 'Bearer passenger-token')).toEqual({ code: 'forbidden FORBIDDEN' });
  });

  it('takes a validator from its token alone, unless the device is disabled', async () => {
    expect(await call('gateOnly', 'bearer gate-token')).toEqual({
      allowed: true,
      user: { id: 'gate-1', role: 'validator', device: true, operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-cat-linh' },
    });
    expect(await call('gateOnly', 'Bearer disabled-gate-token')).toEqual({ code: 'unauthenticated DEVICE_DISABLED' });
  });

  it("takes an inspector's handset from its token alone, as an inspector that cannot tap; a token naming a device of the other kind is refused", async () => {
    expect(await call('inspectorOnly', 'Bearer handset-token')).toEqual({ allowed: true, user: { id: 'handset-1', role: 'inspector', device: true, operatorId: 'hmc' } });
    expect(await call('gateOnly', 'Bearer handset-token')).toEqual({ code: 'forbidden FORBIDDEN' });
    expect(await call('inspectorOnly', 'Bearer gate-token')).toEqual({ code: 'forbidden FORBIDDEN' });
    expect(await call('gateOnly', 'Bearer handset-as-gate-token')).toEqual({ code: 'unauthenticated TOKEN_INVALID' });
    expect(await call('inspectorOnly', 'Bearer gate-as-handset-token')).toEqual({ code: 'unauthenticated TOKEN_INVALID' });
  });
});
