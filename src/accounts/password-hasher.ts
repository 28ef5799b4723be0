import { Injectable, OnModuleInit } from '@nestjs/common';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { normalisePassword } from './password-policy';

/** Algorithm.Argon2id; the package declares it as an ambient const enum, which isolated modules cannot read. */
const ARGON2ID = 2 as Algorithm;

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. Stored hashes carry their parameters. */
export const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Hashes and checks passwords with argon2id. */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** Checked when the account does not exist, so an unknown email costs as much as a wrong password. */
  private decoyHash?: Promise<string>;

  onModuleInit(): void {
    void this.decoy();
  }

  hash(password: string): Promise<string> {
    return hash(normalisePassword(password), ARGON2_OPTIONS);
  }

  /** True when the password matches; with no stored hash it spends the same work and says false. */
  async verify(storedHash: string | undefined, password: string): Promise<boolean> {
    const candidate = normalisePassword(password);
    if (storedHash !== undefined) return verify(storedHash, candidate);
    await verify(await this.decoy(), candidate);
    return false;
  }

  private decoy(): Promise<string> {
    this.decoyHash ??= hash('a decoy that matches no password', ARGON2_OPTIONS);
    return this.decoyHash;
  }
}
