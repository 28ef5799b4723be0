import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The gate path's record: every tap and every journey, written by the tap persister from the Redis
 * tap stream, and accounts blocked at the gates. Taps and journeys are partitioned by local day
 * (Asia/Ho_Chi_Minh); the persister creates each day's partition before it writes into it.
 * No foreign keys on the logs: a tap the gate saw is recorded whatever else changed since.
 */
export class Validation1763800020000 implements MigrationInterface {
  name = 'Validation1763800020000';

  async up(db: QueryRunner): Promise<void> {
    // (device_id, tap_id) identifies a tap. A partitioned table's keys must hold the partition column, so this
    // small table is what makes a tap unique across days (a re-upload may carry another time than the first copy).
    await db.query(`
      CREATE TABLE tap_keys (
        device_id text NOT NULL,
        tap_id text NOT NULL,
        PRIMARY KEY (device_id, tap_id)
      )`);
    await db.query(`
      CREATE TABLE taps (
        device_id text NOT NULL,
        tap_id text NOT NULL,
        occurred_at timestamptz NOT NULL,
        direction text NOT NULL CHECK (direction IN ('entry', 'exit')),
        station_id text NOT NULL,
        line_id text NOT NULL,
        subject_kind text NOT NULL CHECK (subject_kind IN ('single', 'pass', 'payg')),
        ticket_id text,
        account_id text,
        rider_category text NOT NULL,
        verdict text NOT NULL CHECK (verdict IN ('accept', 'reject')),
        reason text NOT NULL,
        valid boolean NOT NULL,
        offline boolean NOT NULL,
        journey_id uuid,
        fare bigint,
        full_fare bigint,
        charge bigint NOT NULL DEFAULT 0 CHECK (charge >= 0),
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (device_id, tap_id, occurred_at),
        CHECK ((subject_kind = 'payg') = (ticket_id IS NULL))
      ) PARTITION BY RANGE (occurred_at)`);
    await db.query(`CREATE INDEX taps_ticket_idx ON taps (ticket_id, occurred_at) WHERE ticket_id IS NOT NULL`);
    await db.query(`CREATE INDEX taps_account_idx ON taps (account_id, occurred_at)`);

    // charge: what the rider pays for the journey after caps; unpaid: the part their wallet could not cover (owed).
    await db.query(`
      CREATE TABLE journeys (
        id uuid NOT NULL,
        entered_at timestamptz NOT NULL,
        subject_kind text NOT NULL CHECK (subject_kind IN ('single', 'pass', 'payg')),
        ticket_id text,
        account_id text,
        rider_category text NOT NULL,
        line_id text NOT NULL,
        entry_station_id text NOT NULL,
        exit_station_id text,
        exited_at timestamptz,
        status text NOT NULL CHECK (status IN ('open', 'closed', 'timed_out')),
        fare bigint,
        full_fare bigint,
        charge bigint NOT NULL DEFAULT 0 CHECK (charge >= 0),
        unpaid bigint NOT NULL DEFAULT 0 CHECK (unpaid >= 0 AND unpaid <= charge),
        PRIMARY KEY (id, entered_at),
        CHECK ((status = 'open') = (fare IS NULL))
      ) PARTITION BY RANGE (entered_at)`);
    await db.query(`CREATE INDEX journeys_account_idx ON journeys (account_id, entered_at)`);
    await db.query(`CREATE INDEX journeys_unpaid_idx ON journeys (account_id) WHERE unpaid > 0`);

    await db.query(`
      CREATE TABLE gate_account_blocks (
        account_id uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
        blocked boolean NOT NULL,
        reason text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX gate_account_blocks_changed_idx ON gate_account_blocks (changed_at, account_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE gate_account_blocks');
    await db.query('DROP TABLE journeys');
    await db.query('DROP TABLE taps');
    await db.query('DROP TABLE tap_keys');
  }
}
