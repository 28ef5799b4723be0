import { MigrationInterface, QueryRunner } from 'typeorm';

/** Tickets issued by paid orders: single trips and passes, with the price and product version they were sold at. */
export class Tickets1763800011000 implements MigrationInterface {
  name = 'Tickets1763800011000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE tickets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
        order_position integer NOT NULL CHECK (order_position >= 0),
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
        product_id text NOT NULL,
        product_version_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('single', 'pass')),
        rider_category text NOT NULL,
        price bigint NOT NULL CHECK (price >= 0),
        modes text[] NOT NULL,
        line_ids text[],
        origin_station_id text REFERENCES stations (id) ON DELETE RESTRICT,
        destination_station_id text REFERENCES stations (id) ON DELETE RESTRICT,
        fare_rule_id text,
        validity_days integer CHECK (validity_days > 0),
        activation text NOT NULL CHECK (activation IN ('fixed', 'first_use')),
        valid_from timestamptz,
        valid_until timestamptz,
        first_use_by timestamptz,
        status text NOT NULL CHECK (status IN ('active', 'refunded', 'revoked')),
        first_used_at timestamptz,
        state_version integer NOT NULL DEFAULT 1,
        issued_at timestamptz NOT NULL DEFAULT now(),
        refunded_at timestamptz,
        revoked_at timestamptz,
        revoked_reason text,
        CHECK ((kind = 'single') = (origin_station_id IS NOT NULL AND destination_station_id IS NOT NULL)),
        CHECK (activation = 'first_use' OR (valid_from IS NOT NULL AND valid_until IS NOT NULL)),
        CHECK ((activation = 'first_use') = (first_use_by IS NOT NULL)),
        CHECK ((status = 'refunded') = (refunded_at IS NOT NULL)),
        CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
        CHECK (status <> 'refunded' OR first_used_at IS NULL),
        UNIQUE (order_id, order_position)
      )`);
    await db.query(`CREATE INDEX tickets_account_id_idx ON tickets (account_id, issued_at)`);
    await db.query(`CREATE INDEX tickets_revoked_at_idx ON tickets (revoked_at) WHERE revoked_at IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE tickets');
  }
}
