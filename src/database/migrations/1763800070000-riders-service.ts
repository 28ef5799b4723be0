import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Riders and the people who help them: support agents and inspectors (staff accounts), corrections of
 * journeys closed at the maximum fare (automatic completions and riders' claims), support adjustments,
 * an append-only audit log, inspections and penalty fares. Wallet money moves only as ledger entries:
 * the new ledger kinds are `journey_correction` and `penalty`, into the new `penalty_revenue` account.
 */
export class RidersService1763800070000 implements MigrationInterface {
  name = 'RidersService1763800070000';

  async up(db: QueryRunner): Promise<void> {
    // Roles: an inspector belongs to an operator, a support agent may (then sees and adjusts only that operator's riders' journeys).
    await dropChecks(db, 'accounts', '%role%');
    await db.query(`ALTER TABLE accounts ADD CONSTRAINT accounts_role_check CHECK (role IN ('passenger', 'operator', 'admin', 'support', 'inspector'))`);
    await db.query(`
      ALTER TABLE accounts ADD CONSTRAINT accounts_operator_binding CHECK (
        CASE role WHEN 'operator' THEN operator_id IS NOT NULL WHEN 'inspector' THEN operator_id IS NOT NULL
                  WHEN 'support' THEN true ELSE operator_id IS NULL END)`);

    await dropChecks(db, 'ledger_transactions', '%top_up%');
    await db.query(`
      ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
        CHECK (kind IN ('top_up', 'purchase', 'refund', 'fare', 'adjustment', 'journey_correction', 'penalty'))`);
    await dropChecks(db, 'ledger_accounts', '%gateway_clearing%');
    await db.query(`
      ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check
        CHECK (kind IN ('wallet', 'gateway_clearing', 'ticket_sales', 'fare_revenue', 'adjustments', 'penalty_revenue'))`);
    await db.query(`INSERT INTO ledger_accounts (id, kind) VALUES ('system:penalty_revenue', 'penalty_revenue')`);

    // The rule that completes a forgotten exit, as data: the same entry closed at the same exit on at least
    // min_matching_days of the last lookback_weekdays weekdays (Monday to Friday, local) before the journey's day.
    await db.query(`
      CREATE TABLE journey_completion_rules (
        id text PRIMARY KEY,
        lookback_weekdays integer NOT NULL CHECK (lookback_weekdays BETWEEN 1 AND 60),
        min_matching_days integer NOT NULL CHECK (min_matching_days >= 1),
        effective_from timestamptz NOT NULL,
        description text NOT NULL,
        CHECK (min_matching_days <= lookback_weekdays)
      )`);
    await db.query(`
      INSERT INTO journey_completion_rules (id, lookback_weekdays, min_matching_days, effective_from, description) VALUES
        ('usual-exit-3-of-5', 5, 3, '2025-01-01T00:00:00+07:00',
         'A pay-as-you-go journey closed at the maximum fare is completed at the exit the rider took from the same entry on at least 3 of the last 5 weekdays')`);

    // One correction per journey, whoever made it. original_charge: what the journey charged; charge: what it costs now.
    await db.query(`
      CREATE TABLE journey_corrections (
        journey_id uuid PRIMARY KEY,
        journey_entered_at timestamptz NOT NULL,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
        operator_id text NOT NULL REFERENCES operators (id) ON DELETE RESTRICT,
        line_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('auto_completion', 'claim')),
        rule_id text REFERENCES journey_completion_rules (id),
        exit_station_id text NOT NULL REFERENCES stations (id),
        original_charge bigint NOT NULL CHECK (original_charge >= 0),
        charge bigint NOT NULL CHECK (charge >= 0 AND charge <= original_charge),
        refunded bigint NOT NULL CHECK (refunded = original_charge - charge),
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'auto_completion') = (rule_id IS NOT NULL))
      )`);
    await db.query(`CREATE INDEX journey_corrections_claims_idx ON journey_corrections (account_id, created_at) WHERE kind = 'claim'`);
    await db.query(`CREATE INDEX journey_corrections_day_idx ON journey_corrections (created_at)`);
    // Timed-out journeys the completion job has looked at (completed or not), so it looks at each once.
    await db.query(`
      CREATE TABLE journey_completion_checks (
        journey_id uuid PRIMARY KEY,
        outcome text NOT NULL CHECK (outcome IN ('completed', 'no_usual_exit', 'not_eligible')),
        checked_at timestamptz NOT NULL DEFAULT now()
      )`);

    // Money a support agent moved into (amount > 0) or out of a wallet.
    await db.query(`
      CREATE TABLE support_adjustments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
        agent_id uuid NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
        operator_id text REFERENCES operators (id) ON DELETE RESTRICT,
        amount bigint NOT NULL CHECK (amount <> 0),
        reason_code text NOT NULL,
        note text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX support_adjustments_day_idx ON support_adjustments (created_at)`);
    await db.query(`CREATE INDEX support_adjustments_account_idx ON support_adjustments (account_id, created_at)`);

    // Who did what, why, and the state before and after. Nobody edits it: not the service, not an admin with SQL.
    await db.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor_id uuid NOT NULL,
        actor_role text NOT NULL,
        actor_operator_id text,
        action text NOT NULL,
        subject_kind text NOT NULL,
        subject_id text NOT NULL,
        reason text NOT NULL,
        note text,
        before jsonb,
        after jsonb
      )`);
    await db.query(`CREATE INDEX audit_log_subject_idx ON audit_log (subject_kind, subject_id, id)`);
    await db.query(`
      CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'restrict_violation';
      END $$`);
    await db.query(`
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only()`);
    await db.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only()`);

    // Penalty fares by rider situation, as data (effective_from: a new row changes the amount from then on).
    await db.query(`
      CREATE TABLE penalty_fares (
        id text NOT NULL,
        effective_from timestamptz NOT NULL,
        amount bigint NOT NULL CHECK (amount > 0),
        description text NOT NULL,
        PRIMARY KEY (id, effective_from)
      )`);
    await db.query(`
      INSERT INTO penalty_fares (id, effective_from, amount, description) VALUES
        ('no-valid-ticket', '2025-01-01T00:00:00+07:00', 200000, 'Riding without a valid ticket or tap (an estimate in the range of Decree 100/2019 fines; replace with the city''s figure)')`);

    await db.query(`
      CREATE TABLE inspections (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        inspector_id uuid NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
        operator_id text NOT NULL REFERENCES operators (id) ON DELETE RESTRICT,
        line_id text NOT NULL REFERENCES lines (id) ON DELETE RESTRICT,
        result text NOT NULL CHECK (result IN ('VALID', 'NO_TAP', 'INVALID')),
        reason text NOT NULL,
        basis text NOT NULL CHECK (basis IN ('online', 'offline')),
        subject_kind text,
        ticket_id text,
        account_id uuid,
        journey_id uuid,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);

    await db.query(`
      CREATE TABLE penalties (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        inspection_id uuid NOT NULL UNIQUE REFERENCES inspections (id) ON DELETE RESTRICT,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
        operator_id text NOT NULL REFERENCES operators (id) ON DELETE RESTRICT,
        fare_id text NOT NULL,
        amount bigint NOT NULL CHECK (amount > 0),
        status text NOT NULL CHECK (status IN ('issued', 'paid', 'disputed', 'cancelled')),
        issued_by uuid NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
        issued_at timestamptz NOT NULL DEFAULT now(),
        paid_at timestamptz,
        dispute_reason text,
        CHECK ((status = 'paid') = (paid_at IS NOT NULL))
      )`);
    await db.query(`CREATE INDEX penalties_account_idx ON penalties (account_id, issued_at)`);
    await db.query(`CREATE INDEX penalties_paid_idx ON penalties (paid_at) WHERE paid_at IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE penalties, inspections, penalty_fares, audit_log, support_adjustments, journey_completion_checks, journey_corrections, journey_completion_rules');
    await db.query('DROP FUNCTION audit_log_is_append_only');
    await db.query(`DELETE FROM ledger_accounts WHERE id = 'system:penalty_revenue'`);
  }
}

/** Drops the CHECK constraints of a table whose definition matches the pattern (inline checks have generated names). */
export async function dropChecks(db: QueryRunner, table: string, pattern: string): Promise<void> {
  const rows = (await db.query(`SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE $2`, [
    table,
    pattern,
  ])) as Array<{ conname: string }>;
  for (const { conname } of rows) await db.query(`ALTER TABLE ${table} DROP CONSTRAINT "${conname}"`);
}
