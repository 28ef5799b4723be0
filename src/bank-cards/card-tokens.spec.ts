import { loadConfig } from '../config/config';
import { CardTokens } from './card-tokens';
import { declines } from './dev-acquirer';

describe('CardTokens', () => {
  const tokens = new CardTokens(loadConfig({}));

  it('keys a card by an HMAC of its token and seals the token so that only we can open it', () => {
    const token = 'tok_4111_example_par';
    expect(tokens.idOf(token)).toMatch(/^[0-9a-f]{32}$/);
    expect(tokens.idOf(token)).toBe(tokens.idOf(token));
    expect(tokens.idOf(token)).not.toBe(new CardTokens(loadConfig({ BANK_CARD_KEY: 'another-bank-card-key-of-32-characters!' })).idOf(token));
    const sealed = tokens.seal(token);
    expect(sealed).not.toContain(token);
    expect(tokens.seal(token)).not.toBe(sealed);
    expect(tokens.open(sealed)).toBe(token);
    expect(() => tokens.open(sealed.slice(0, -2) + 'AA')).toThrow();
  });
});

describe('the development acquirer: test tokens', () => {
  it('declines tok_decline always, tok_decline_<n>_ its first n times, anything else never', () => {
    expect(declines('tok_ok_1', 0)).toBe(false);
    expect(declines('tok_decline_x', 9)).toBe(true);
    expect([0, 1, 2].map((earlier) => declines('tok_decline_2_abc', earlier))).toEqual([true, true, false]);
  });
});
