import { MigrationInterface, QueryRunner } from 'typeorm';

export class Network1763800000000 implements MigrationInterface {
  name = 'Network1763800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE operators (
        id text PRIMARY KEY,
        name text NOT NULL,
        short_name text NOT NULL
      )`);
    await db.query(`
      CREATE TABLE lines (
        id text PRIMARY KEY,
        code text NOT NULL UNIQUE,
        name text NOT NULL,
        mode text NOT NULL CHECK (mode IN ('metro', 'brt', 'bus')),
        operator_id text NOT NULL REFERENCES operators (id) ON DELETE RESTRICT
      )`);
    await db.query(`CREATE INDEX lines_operator_id_idx ON lines (operator_id)`);
    await db.query(`
      CREATE TABLE stations (
        id text PRIMARY KEY,
        line_id text NOT NULL REFERENCES lines (id) ON DELETE CASCADE,
        sequence integer NOT NULL CHECK (sequence >= 0),
        name text NOT NULL,
        position_m integer NOT NULL CHECK (position_m >= 0),
        position_estimated boolean NOT NULL,
        UNIQUE (line_id, sequence) DEFERRABLE INITIALLY IMMEDIATE
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE stations');
    await db.query('DROP TABLE lines');
    await db.query('DROP TABLE operators');
  }
}
