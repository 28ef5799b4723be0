import { MigrationInterface, QueryRunner } from 'typeorm';
import { emailSkeleton } from '../../accounts/email';

/**
 * What each address looks like (src/accounts/email.ts): registration refuses an address whose
 * skeleton an account already has. Not unique: accounts made before may already share one, and
 * rows written outside the service (benchmarks) may have none.
 */
export class EmailSkeletons1763800050000 implements MigrationInterface {
  name = 'EmailSkeletons1763800050000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE accounts ADD COLUMN email_skeleton text`);
    const accounts = (await db.query(`SELECT id, email FROM accounts`)) as Array<{ id: string; email: string }>;
    for (const account of accounts) {
      await db.query(`UPDATE accounts SET email_skeleton = $2 WHERE id = $1`, [account.id, emailSkeleton(account.email)]);
    }
    await db.query(`CREATE INDEX accounts_email_skeleton_idx ON accounts (email_skeleton)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE accounts DROP COLUMN email_skeleton`);
  }
}
