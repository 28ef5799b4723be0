import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fare data: zones, versioned fare tables, versioned products with their prices, and waivers.
 * Versions are append-only: a trigger refuses to update or delete them, so nothing sold or
 * charged under a version can ever be repriced by editing it.
 */
export class Fares1763800001000 implements MigrationInterface {
  name = 'Fares1763800001000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE fare_zones (
        id text PRIMARY KEY,
        name text NOT NULL
      )`);
    await db.query(`
      CREATE TABLE fare_zone_stations (
        zone_id text NOT NULL REFERENCES fare_zones (id) ON DELETE CASCADE,
        station_id text NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
        membership_estimated boolean NOT NULL,
        PRIMARY KEY (zone_id, station_id)
      )`);
    await db.query(`
      CREATE TABLE fare_tables (
        id text PRIMARY KEY,
        effective_from timestamptz NOT NULL,
        free_rider_categories text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT fare_tables_effective_from_key UNIQUE (effective_from)
      )`);
    await db.query(`
      CREATE TABLE fare_rules (
        fare_table_id text NOT NULL REFERENCES fare_tables (id) ON DELETE RESTRICT,
        id text NOT NULL,
        position integer NOT NULL,
        modes text[] NOT NULL CHECK (cardinality(modes) > 0 AND modes <@ ARRAY['metro', 'brt', 'bus']),
        line_ids text[],
        method text NOT NULL CHECK (method IN ('distance', 'route_length_bands')),
        base_amount integer CHECK (base_amount >= 0),
        per_km_amount integer CHECK (per_km_amount >= 0),
        min_amount integer CHECK (min_amount >= 0),
        max_amount integer CHECK (max_amount >= 0),
        band_min_length_m integer[],
        band_amounts integer[],
        cash_rounding_unit integer NOT NULL CHECK (cash_rounding_unit > 0),
        PRIMARY KEY (fare_table_id, id),
        CHECK (method <> 'distance' OR (base_amount IS NOT NULL AND per_km_amount IS NOT NULL)),
        CHECK (method <> 'route_length_bands' OR (cardinality(band_amounts) > 0 AND cardinality(band_amounts) = cardinality(band_min_length_m))),
        CHECK (0 <= ALL (band_amounts) AND 0 <= ALL (band_min_length_m)),
        CHECK (min_amount IS NULL OR max_amount IS NULL OR min_amount <= max_amount)
      )`);
    await db.query(`
      CREATE TABLE products (
        id text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE TABLE product_versions (
        id text PRIMARY KEY,
        product_id text NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
        effective_from timestamptz NOT NULL,
        name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('single', 'pass', 'stored_value')),
        modes text[] NOT NULL CHECK (cardinality(modes) > 0 AND modes <@ ARRAY['metro', 'brt', 'bus']),
        line_ids text[],
        single_line boolean NOT NULL,
        validity_days integer CHECK (validity_days > 0),
        pay_as_you_go_cap text CHECK (pay_as_you_go_cap IN ('day', 'week')),
        on_sale boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT product_versions_product_id_effective_from_key UNIQUE (product_id, effective_from),
        CHECK ((kind = 'pass') = (validity_days IS NOT NULL)),
        CHECK (pay_as_you_go_cap IS NULL OR kind = 'pass')
      )`);
    await db.query(`
      CREATE TABLE product_prices (
        product_version_id text NOT NULL REFERENCES product_versions (id) ON DELETE RESTRICT,
        rider_category text NOT NULL,
        amount integer NOT NULL CHECK (amount >= 0),
        PRIMARY KEY (product_version_id, rider_category)
      )`);
    await db.query(`
      CREATE TABLE fare_waivers (
        id text PRIMARY KEY,
        name text NOT NULL,
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        line_ids text[],
        modes text[] CHECK (modes <@ ARRAY['metro', 'brt', 'bus']),
        rider_categories text[],
        zone_id text REFERENCES fare_zones (id) ON DELETE RESTRICT,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (ends_at > starts_at)
      )`);
    await db.query(`
      CREATE FUNCTION fare_versions_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only: add a new version instead', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
      END $$`);
    for (const table of ['fare_tables', 'fare_rules', 'product_versions', 'product_prices', 'fare_waivers']) {
      await db.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION fare_versions_are_append_only()`);
    }
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['fare_waivers', 'product_prices', 'product_versions', 'products', 'fare_rules', 'fare_tables', 'fare_zone_stations', 'fare_zones']) {
      await db.query(`DROP TABLE ${table}`);
    }
    await db.query('DROP FUNCTION fare_versions_are_append_only()');
  }
}
