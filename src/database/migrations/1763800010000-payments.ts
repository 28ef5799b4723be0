import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The wallet ledger (double entry), payments through the gateway, orders, and idempotency keys.
 * The database itself keeps the ledger honest: every transaction's entries sum to zero at commit,
 * entries are append-only, and a wallet's balance moves only with its entries and never below zero.
 */
export class Payments1763800010000 implements MigrationInterface {
  name = 'Payments1763800010000';

  async up(db: QueryRunner): Promise<void> {
    // A wallet per passenger (created on first use), and the scheme's own accounts. Only wallets keep
    // a running balance: the system accounts take part in every sale and would serialise them.
    await db.query(`
      CREATE TABLE ledger_accounts (
        id text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('wallet', 'gateway_clearing', 'ticket_sales', 'fare_revenue', 'adjustments')),
        owner_account_id uuid UNIQUE REFERENCES accounts (id) ON DELETE RESTRICT,
        balance bigint NOT NULL DEFAULT 0,
        version bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'wallet') = (owner_account_id IS NOT NULL)),
        CONSTRAINT wallet_balance_not_negative CHECK (balance >= 0),
        CHECK (kind = 'wallet' OR (balance = 0 AND version = 0))
      )`);
    await db.query(`
      INSERT INTO ledger_accounts (id, kind) VALUES
        ('system:gateway_clearing', 'gateway_clearing'),
        ('system:ticket_sales', 'ticket_sales'),
        ('system:fare_revenue', 'fare_revenue'),
        ('system:adjustments', 'adjustments')`);
    await db.query(`
      CREATE TABLE ledger_transactions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL CHECK (kind IN ('top_up', 'purchase', 'refund', 'fare', 'adjustment')),
        reference text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX ledger_transactions_reference_idx ON ledger_transactions (reference)`);
    // Signed amounts: positive into the account, negative out of it.
    await db.query(`
      CREATE TABLE ledger_entries (
        id bigserial PRIMARY KEY,
        transaction_id uuid NOT NULL REFERENCES ledger_transactions (id) ON DELETE RESTRICT,
        ledger_account_id text NOT NULL REFERENCES ledger_accounts (id) ON DELETE RESTRICT,
        amount bigint NOT NULL CHECK (amount <> 0),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX ledger_entries_transaction_id_idx ON ledger_entries (transaction_id)`);
    await db.query(`CREATE INDEX ledger_entries_account_idx ON ledger_entries (ledger_account_id, id)`);

    await db.query(`
      CREATE FUNCTION ledger_transaction_must_balance() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE total numeric;
      BEGIN
        SELECT sum(amount) INTO total FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
        IF total <> 0 THEN
          RAISE EXCEPTION 'ledger transaction % does not balance (entries sum to %)', NEW.transaction_id, total
            USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE CONSTRAINT TRIGGER ledger_entries_balance AFTER INSERT ON ledger_entries
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_must_balance()`);

    await db.query(`
      CREATE FUNCTION ledger_entry_moves_wallet() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE ledger_accounts SET balance = balance + NEW.amount, version = version + 1
         WHERE id = NEW.ledger_account_id AND kind = 'wallet';
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER ledger_entries_move_wallet AFTER INSERT ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_entry_moves_wallet()`);

    await db.query(`
      CREATE FUNCTION ledger_entries_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger entries are append-only: post a correcting transaction instead' USING ERRCODE = 'restrict_violation';
      END $$`);
    await db.query(`
      CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_entries_are_append_only()`);

    // Only the entry trigger above (nested one level deeper) may move a balance.
    await db.query(`
      CREATE FUNCTION wallet_balance_moves_by_entries() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF pg_trigger_depth() < 2 THEN
          RAISE EXCEPTION 'a wallet balance changes only through ledger entries' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(`
      CREATE TRIGGER ledger_accounts_balance_by_entries BEFORE UPDATE OF balance, version ON ledger_accounts
        FOR EACH ROW EXECUTE FUNCTION wallet_balance_moves_by_entries()`);

    await db.query(`
      CREATE TABLE orders (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
        status text NOT NULL CHECK (status IN ('pending_payment', 'paid', 'failed', 'expired')),
        pay_with text NOT NULL CHECK (pay_with IN ('wallet', 'gateway')),
        total bigint NOT NULL CHECK (total >= 0),
        rider_category text NOT NULL,
        items jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        paid_at timestamptz,
        CHECK ((status = 'paid') = (paid_at IS NOT NULL))
      )`);
    await db.query(`CREATE INDEX orders_account_id_idx ON orders (account_id, created_at)`);

    await db.query(`
      CREATE TABLE payments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
        purpose text NOT NULL CHECK (purpose IN ('top_up', 'order')),
        order_id uuid UNIQUE REFERENCES orders (id) ON DELETE RESTRICT,
        amount bigint NOT NULL CHECK (amount > 0),
        currency text NOT NULL DEFAULT 'VND' CHECK (currency = 'VND'),
        gateway text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'expired')),
        redirect_url text NOT NULL,
        gateway_reference text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        completed_at timestamptz,
        CHECK ((purpose = 'order') = (order_id IS NOT NULL)),
        CHECK ((status = 'pending') = (completed_at IS NULL))
      )`);
    await db.query(`CREATE INDEX payments_pending_expiry_idx ON payments (expires_at) WHERE status = 'pending'`);
    await db.query(`CREATE UNIQUE INDEX payments_gateway_reference_idx ON payments (gateway, gateway_reference)`);

    // A key is the caller's: two passengers may pick the same one. The response is stored with the
    // effect, in the same transaction, so there is never an effect without its response or the reverse.
    await db.query(`
      CREATE TABLE idempotency_keys (
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        key text NOT NULL,
        request_hash bytea NOT NULL,
        response_body json,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, key)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE idempotency_keys');
    await db.query('DROP TABLE payments');
    await db.query('DROP TABLE orders');
    await db.query('DROP TABLE ledger_entries');
    await db.query('DROP TABLE ledger_transactions');
    await db.query('DROP TABLE ledger_accounts');
    await db.query('DROP FUNCTION wallet_balance_moves_by_entries, ledger_entries_are_append_only, ledger_entry_moves_wallet, ledger_transaction_must_balance');
  }
}
