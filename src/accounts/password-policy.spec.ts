import { DomainError } from '../common/domain-error';
import { normaliseEmail } from './email';
import { assertPasswordAcceptable, passwordProblems } from './password-policy';

describe('normaliseEmail', () => {
  it('trims, lower-cases and composes', () => {
    expect(normaliseEmail('  Lan.Nguyen@Example.VN ')).toBe('lan.nguyen@example.vn');
    expect(normaliseEmail('HOA\u0300@x.vn')).toBe(normaliseEmail('hoà@x.vn'));
  });
});

describe('password policy', () => {
  const email = 'lan.nguyen@example.vn';

  it('accepts a long passphrase, in any script', () => {
    expect(passwordProblems('tàu điện Cát Linh 2A', email)).toEqual([]);
    expect(passwordProblems('correct horse battery staple', email)).toEqual([]);
  });

  it('counts characters, not bytes or UTF-16 units', () => {
    expect(passwordProblems('đường sắt đô', email)).toEqual([]); // 12 characters, more bytes
    expect(passwordProblems('🚇🚌🚊🚆🚉🚍🚎🚐🚑🚒🚓', email)).toEqual(['must be at least 12 characters long']); // 11 characters, 22 units
  });

  it('refuses short, monotonous, overlong and email-based passwords with reasons', () => {
    expect(passwordProblems('abc123', email)).toEqual(['must be at least 12 characters long']);
    expect(passwordProblems('aaaaaaaaaaaaaaaa', email)).toEqual(['must use at least 5 different characters']);
    expect(passwordProblems('x'.repeat(60) + 'abcdefghij'.repeat(7), email)).toEqual(['must be at most 128 characters long']);
    expect(passwordProblems('LAN.NGUYEN-2026!', email)).toEqual(['must not contain your email address']);
  });

  it('throws WEAK_PASSWORD with one detail per problem', () => {
    expect(() => assertPasswordAcceptable('aaaa', email)).toThrow(DomainError);
    try {
      assertPasswordAcceptable('aaaa', email);
    } catch (error) {
      expect(error).toMatchObject({ kind: 'invalid', code: 'WEAK_PASSWORD' });
      expect((error as DomainError).details).toEqual([
        { field: 'password', problem: 'must be at least 12 characters long' },
        { field: 'password', problem: 'must use at least 5 different characters' },
      ]);
    }
  });
});
