import { MigrationInterface, QueryRunner } from 'typeorm';
import { dropChecks } from './1763800070000-riders-service';

/**
 * Bank cards (src/bank-cards): a card is keyed by an HMAC of its token (`card_id`, 32 hex digits);
 * the token itself is kept only sealed (AES-256-GCM) for the charges. Journeys and taps of a card
 * have subject kind `bank_card` and its card id. A card's priced journeys of a local day become one
 * charge (one row per card, day and sequence), authorised and captured through the acquirer; a
 * declined charge is a debt, and the card is on the deny list until it is paid. Captured charges
 * post one ledger transaction per journey (`card_fare`, from the acquirer's clearing account to
 * ticket sales), so the ledger balances to the đồng. The development acquirer keeps its own books.
 */
export class BankCards1763800130000 implements MigrationInterface {
  name = 'BankCards1763800130000';

  async up(db: QueryRunner): Promise<void> {
    for (const table of ['taps', 'journeys']) {
      // A ticket id exactly for tickets (it was: none exactly for pay-as-you-go and free rides), a card id exactly for cards.
      await dropChecks(db, table, '%ticket_id IS NULL%');
      await widenCheck(db, table, 'subject_kind', 'bank_card');
      await db.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_ticket_subject CHECK ((subject_kind IN ('single', 'pass')) = (ticket_id IS NOT NULL))`);
      await db.query(`ALTER TABLE ${table} ADD COLUMN card_id text`);
      await db.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_card_subject CHECK ((subject_kind = 'bank_card') = (card_id IS NOT NULL))`);
    }
    // The token, sealed, on a card's journeys: the charge job opens the latest to ask the acquirer.
    await db.query(`ALTER TABLE journeys ADD COLUMN card_token text`);
    await db.query(`CREATE INDEX journeys_card_idx ON journeys (card_id, entered_at) WHERE card_id IS NOT NULL`);
    await db.query(`CREATE INDEX taps_card_idx ON taps (card_id, occurred_at) WHERE card_id IS NOT NULL`);

    await widenCheck(db, 'ledger_transactions', 'kind', 'card_fare');
    await widenCheck(db, 'ledger_accounts', 'kind', 'acquirer_clearing');
    await db.query(`INSERT INTO ledger_accounts (id, kind) VALUES ('system:acquirer_clearing', 'acquirer_clearing')`);

    await db.query(`
      CREATE TABLE bank_cards (
        id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
        sealed_token text NOT NULL,
        label text NOT NULL,
        account_id uuid REFERENCES accounts (id) ON DELETE SET NULL,
        linked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((account_id IS NULL) = (linked_at IS NULL))
      )`);
    await db.query(`CREATE INDEX bank_cards_account_idx ON bank_cards (account_id) WHERE account_id IS NOT NULL`);

    // The deny list's card side: a card with an unpaid charge is refused at the gates.
    await db.query(`
      CREATE TABLE bank_card_denials (
        card_id text PRIMARY KEY REFERENCES bank_cards (id) ON DELETE CASCADE,
        denied boolean NOT NULL,
        reason text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX bank_card_denials_changed_idx ON bank_card_denials (changed_at, card_id)`);

    // pending: journeys gathered, nothing asked; authorising: attempt n asked (its key is `<id>:auth:<n>`);
    // authorised: approved, capture asked (key `<id>:capture`); captured: paid; declined: a debt.
    await db.query(`
      CREATE TABLE bank_card_charges (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        card_id text NOT NULL REFERENCES bank_cards (id) ON DELETE RESTRICT,
        local_day date NOT NULL,
        sequence integer NOT NULL CHECK (sequence >= 1),
        trigger text NOT NULL CHECK (trigger IN ('day_end', 'cap')),
        amount bigint NOT NULL CHECK (amount > 0),
        status text NOT NULL CHECK (status IN ('pending', 'authorising', 'authorised', 'captured', 'declined')),
        attempts integer NOT NULL DEFAULT 0,
        retries integer NOT NULL DEFAULT 0,
        authorisation text,
        acquirer_reference text,
        decline_code text,
        first_declined_at timestamptz,
        declined_at timestamptz,
        next_retry_at timestamptz,
        captured_at timestamptz,
        recovered_by text CHECK (recovered_by IN ('retry', 'rider')),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (card_id, local_day, sequence),
        CHECK ((status = 'captured') = (captured_at IS NOT NULL)),
        CHECK (status NOT IN ('authorised', 'captured') OR authorisation IS NOT NULL)
      )`);
    await db.query(`CREATE INDEX bank_card_charges_open_idx ON bank_card_charges (status, next_retry_at) WHERE status <> 'captured'`);
    await db.query(`CREATE INDEX bank_card_charges_day_idx ON bank_card_charges (local_day)`);
    await db.query(`CREATE INDEX bank_card_charges_captured_idx ON bank_card_charges (captured_at) WHERE captured_at IS NOT NULL`);

    // Each priced journey of a card in exactly one charge.
    await db.query(`
      CREATE TABLE bank_card_charge_journeys (
        journey_id uuid PRIMARY KEY,
        journey_entered_at timestamptz NOT NULL,
        charge_id uuid NOT NULL REFERENCES bank_card_charges (id) ON DELETE RESTRICT,
        line_id text NOT NULL,
        amount bigint NOT NULL CHECK (amount > 0)
      )`);
    await db.query(`CREATE INDEX bank_card_charge_journeys_charge_idx ON bank_card_charge_journeys (charge_id)`);

    // Every authorisation asked, and how it went: the retry schedule counts them, debts show them.
    await db.query(`
      CREATE TABLE bank_card_charge_attempts (
        charge_id uuid NOT NULL REFERENCES bank_card_charges (id) ON DELETE RESTRICT,
        attempt integer NOT NULL,
        trigger text NOT NULL CHECK (trigger IN ('job', 'retry', 'rider')),
        outcome text CHECK (outcome IN ('approved', 'declined')),
        asked_at timestamptz NOT NULL DEFAULT now(),
        answered_at timestamptz,
        PRIMARY KEY (charge_id, attempt)
      )`);

    // The development acquirer's own books (ACQUIRER=dev): one row per idempotency key.
    await db.query(`
      CREATE TABLE dev_acquirer_operations (
        idempotency_key text PRIMARY KEY,
        operation text NOT NULL CHECK (operation IN ('authorise', 'capture', 'refund')),
        card_ref text NOT NULL,
        merchant_reference text NOT NULL,
        amount bigint NOT NULL CHECK (amount > 0),
        outcome text NOT NULL CHECK (outcome IN ('approved', 'declined')),
        acquirer_reference text NOT NULL UNIQUE,
        decline_code text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX dev_acquirer_operations_card_idx ON dev_acquirer_operations (card_ref, operation)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE dev_acquirer_operations, bank_card_charge_attempts, bank_card_charge_journeys, bank_card_charges, bank_card_denials, bank_cards');
    await db.query(`DELETE FROM ledger_accounts WHERE id = 'system:acquirer_clearing'`);
    await db.query('DROP INDEX taps_card_idx, journeys_card_idx');
    await db.query('ALTER TABLE journeys DROP COLUMN card_token');
    for (const table of ['taps', 'journeys']) {
      await db.query(`ALTER TABLE ${table} DROP COLUMN card_id`);
      await db.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_ticket_subject`);
      await db.query(`ALTER TABLE ${table} ADD CHECK ((subject_kind = 'payg') = (ticket_id IS NULL))`);
    }
  }
}

/**
 * Adds `value` to the `column IN (...)` check of a table, keeping whatever values the check holds
 * now (other migrations widen the same checks).
 */
export async function widenCheck(db: QueryRunner, table: string, column: string, value: string): Promise<void> {
  const rows = (await db.query(
    `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE $2`,
    [table, `%(${column} = ANY%`],
  )) as Array<{ conname: string; def: string }>;
  if (rows.length !== 1) throw new Error(`expected one check of ${table}.${column}, found ${rows.length}`);
  const values = [...rows[0].def.matchAll(/'([^']+)'::text/g)].map((match) => match[1]);
  if (!values.includes(value)) values.push(value);
  await db.query(`ALTER TABLE ${table} DROP CONSTRAINT "${rows[0].conname}"`);
  await db.query(`ALTER TABLE ${table} ADD CONSTRAINT "${rows[0].conname}" CHECK (${column} IN (${values.map((item) => `'${item}'`).join(', ')}))`);
}
