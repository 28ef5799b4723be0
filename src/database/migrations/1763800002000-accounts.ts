import { MigrationInterface, QueryRunner } from 'typeorm';

export class Accounts1763800002000 implements MigrationInterface {
  name = 'Accounts1763800002000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE accounts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL UNIQUE, -- normalised by the service: trimmed, NFC, lower case
        password_hash text NOT NULL,
        full_name text NOT NULL,
        role text NOT NULL CHECK (role IN ('passenger', 'operator', 'admin')),
        operator_id text REFERENCES operators (id) ON DELETE RESTRICT,
        declared_date_of_birth date,
        verified_date_of_birth date,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((role = 'operator') = (operator_id IS NOT NULL))
      )`);
    // A login session: one chain of refresh tokens. Revoking it ends every token of the chain.
    await db.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        revoked_reason text CHECK (revoked_reason IN ('logout', 'reuse'))
      )`);
    await db.query(`CREATE INDEX sessions_account_id_idx ON sessions (account_id)`);
    // Only a SHA-256 of each refresh token is kept; a rotated token has rotated_at set.
    await db.query(`
      CREATE TABLE refresh_tokens (
        token_hash bytea PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        issued_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        rotated_at timestamptz
      )`);
    await db.query(`CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id)`);
    await db.query(`
      CREATE TABLE concession_claims (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        category text NOT NULL CHECK (category IN ('priority', 'elderly', 'disabled', 'meritorious', 'poor_household', 'child')),
        evidence text NOT NULL,
        date_of_birth date,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
        valid_until timestamptz,
        decided_by uuid REFERENCES accounts (id) ON DELETE SET NULL,
        decided_at timestamptz,
        decision_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((status = 'pending') = (decided_at IS NULL)),
        CHECK (status = 'approved' OR valid_until IS NULL)
      )`);
    await db.query(`CREATE INDEX concession_claims_account_id_idx ON concession_claims (account_id)`);
    await db.query(`CREATE INDEX concession_claims_status_idx ON concession_claims (status, created_at)`);
    await db.query(`CREATE UNIQUE INDEX concession_claims_one_pending_idx ON concession_claims (account_id, category) WHERE status = 'pending'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE concession_claims');
    await db.query('DROP TABLE refresh_tokens');
    await db.query('DROP TABLE sessions');
    await db.query('DROP TABLE accounts');
  }
}
