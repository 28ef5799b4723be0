import { MigrationInterface, QueryRunner } from 'typeorm';

export class Devices1763800003000 implements MigrationInterface {
  name = 'Devices1763800003000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE devices (
        id text PRIMARY KEY,
        operator_id text NOT NULL REFERENCES operators (id) ON DELETE RESTRICT,
        line_id text NOT NULL REFERENCES lines (id) ON DELETE RESTRICT,
        station_id text REFERENCES stations (id) ON DELETE RESTRICT,
        kind text NOT NULL CHECK (kind IN ('gate', 'bus')),
        secret_hash bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        disabled_at timestamptz,
        CHECK ((kind = 'gate') = (station_id IS NOT NULL))
      )`);
    await db.query(`CREATE INDEX devices_operator_id_idx ON devices (operator_id)`);
    await db.query(`CREATE INDEX devices_disabled_idx ON devices (id) WHERE disabled_at IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE devices');
  }
}
