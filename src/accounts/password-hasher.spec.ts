import { PasswordHasher } from './password-hasher';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it('stores argon2id hashes with their parameters and a salt', async () => {
    const first = await hasher.hash('tàu điện Cát Linh 2A');
    const second = await hasher.hash('tàu điện Cát Linh 2A');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(first).not.toBe(second);
    await expect(hasher.verify(first, 'tàu điện Cát Linh 2A')).resolves.toBe(true);
    await expect(hasher.verify(first, 'tàu điện Cát Linh 2B')).resolves.toBe(false);
  });

  it('matches the same phrase whichever Unicode form the keyboard sent', async () => {
    const composed = 'Hoàn Kiếm lake walk';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    await expect(hasher.verify(await hasher.hash(composed), decomposed)).resolves.toBe(true);
  });

  it('spends a verification and says no when there is no account', async () => {
    await expect(hasher.verify(undefined, 'a decoy that matches no password')).resolves.toBe(false);
  });
});
