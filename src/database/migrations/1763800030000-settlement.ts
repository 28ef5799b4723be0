import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Settlement's own tables: the allocation key of each product (versioned by effective date, like
 * fare data) and the statements of closed days, frozen with the SHA-256 of their canonical JSON.
 */
export class Settlement1763800030000 implements MigrationInterface {
  name = 'Settlement1763800030000';

  async up(db: QueryRunner): Promise<void> {
    // No foreign key to products: the key is settlement's data about a product id, kept even if fares rename things.
    await db.query(`
      CREATE TABLE product_allocation_keys (
        product_id text NOT NULL,
        effective_from timestamptz NOT NULL,
        key text NOT NULL CHECK (key IN ('trips', 'passenger_km', 'fixed_shares')),
        shares jsonb,
        note text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (product_id, effective_from),
        CHECK ((key = 'fixed_shares') = (shares IS NOT NULL)),
        CHECK (shares IS NULL OR jsonb_typeof(shares) = 'object')
      )`);
    await db.query(`
      CREATE TABLE settlement_days (
        day date PRIMARY KEY,
        closed_at timestamptz NOT NULL,
        closed_by text NOT NULL,
        statement jsonb NOT NULL,
        sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$')
      )`);
    // A closed day is frozen: its statement never changes; late events become adjustments of a later day.
    await db.query(`
      CREATE FUNCTION settlement_days_are_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'a closed settlement day is frozen' USING ERRCODE = 'restrict_violation';
      END $$`);
    await db.query(`
      CREATE TRIGGER settlement_days_frozen BEFORE UPDATE OR DELETE ON settlement_days
        FOR EACH ROW EXECUTE FUNCTION settlement_days_are_frozen()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE settlement_days');
    await db.query('DROP FUNCTION settlement_days_are_frozen()');
    await db.query('DROP TABLE product_allocation_keys');
  }
}
