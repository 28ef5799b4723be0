import type { DataSource } from 'typeorm';
import type { AccountRole } from './access-tokens';
import { emailSkeleton, normaliseEmail } from './email';
import { PasswordHasher } from './password-hasher';

export interface AccountSeed {
  email: string;
  password: string;
  fullName: string;
  role: AccountRole;
  /** Operator staff only. */
  operatorId?: string;
}

/** Creates the account, or puts an existing one with that email back to exactly this state (password included). */
export async function upsertAccount(db: DataSource, seed: AccountSeed): Promise<string> {
  const passwordHash = await new PasswordHasher().hash(seed.password);
  const [row] = await db.query<Array<{ id: string }>>(
    `INSERT INTO accounts (email, password_hash, full_name, role, operator_id, email_skeleton) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash, full_name = EXCLUDED.full_name,
       role = EXCLUDED.role, operator_id = EXCLUDED.operator_id, email_skeleton = EXCLUDED.email_skeleton
     RETURNING id`,
    [normaliseEmail(seed.email), passwordHash, seed.fullName, seed.role, seed.operatorId ?? null, emailSkeleton(seed.email)],
  );
  return row.id;
}
