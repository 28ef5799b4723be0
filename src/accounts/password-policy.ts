import { DomainError, ErrorDetail } from '../common/domain-error';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;
const MIN_DISTINCT_CHARACTERS = 5;

/** Passwords are compared after NFC, so the same phrase typed on another keyboard still matches. */
export function normalisePassword(password: string): string {
  return password.normalize('NFC');
}

/**
 * What is wrong with a new password, in words a person can act on; empty when it is acceptable.
 * Length is what matters most (NIST SP 800-63B); we also refuse the trivially guessable.
 */
export function passwordProblems(password: string, email: string): string[] {
  const characters = [...normalisePassword(password)];
  const problems: string[] = [];
  if (characters.length < PASSWORD_MIN_LENGTH) problems.push(`must be at least ${PASSWORD_MIN_LENGTH} characters long`);
  if (characters.length > PASSWORD_MAX_LENGTH) problems.push(`must be at most ${PASSWORD_MAX_LENGTH} characters long`);
  if (new Set(characters.map((c) => c.toLowerCase())).size < MIN_DISTINCT_CHARACTERS) {
    problems.push(`must use at least ${MIN_DISTINCT_CHARACTERS} different characters`);
  }
  const localPart = email.split('@')[0]?.toLowerCase() ?? '';
  if (localPart.length >= 4 && characters.join('').toLowerCase().includes(localPart)) problems.push('must not contain your email address');
  return problems;
}

/** Throws 400 WEAK_PASSWORD naming every problem, or returns quietly. */
export function assertPasswordAcceptable(password: string, email: string): void {
  const problems = passwordProblems(password, email);
  if (problems.length === 0) return;
  const details: ErrorDetail[] = problems.map((problem) => ({ field: 'password', problem }));
  throw new DomainError('invalid', 'WEAK_PASSWORD', `The password ${problems.join('; ')}`, details);
}
