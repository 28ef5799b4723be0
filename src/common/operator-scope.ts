import type { AuthUser } from './auth-user';
import { DomainError } from './domain-error';

/**
 * The operator whose data a caller may read: an admin any (or all, when none is asked for), an
 * operator's staff only their own. Asking for another operator's data is 403 OPERATOR_SCOPE.
 */
export function operatorScope(user: AuthUser, requestedOperatorId: string | undefined): string | undefined {
  if (user.role === 'admin') return requestedOperatorId;
  if (user.role === 'operator' && user.operatorId !== undefined && (requestedOperatorId ?? user.operatorId) === user.operatorId) {
    return user.operatorId;
  }
  throw new DomainError('forbidden', 'OPERATOR_SCOPE', "Only this operator's own data may be read");
}
