import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Taps the record refused after the gates had applied them: their (device, tap id) was already in
 * `taps` (another tap under a reused id, or the same tap again after the tap memory forgot it). The
 * tap recorder keeps each here, as gate.lua's event, and has the gates undo it (GateTapUndo).
 * Key: the tap and the application of gate.lua (gate-state.ts tapUndoId: its time and journey).
 */
export class TapConflicts1763800080000 implements MigrationInterface {
  name = 'TapConflicts1763800080000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE tap_conflicts (
        device_id text NOT NULL,
        tap_id text NOT NULL,
        application text NOT NULL,
        occurred_at timestamptz NOT NULL,
        same_body boolean NOT NULL,
        event jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (device_id, tap_id, application)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE tap_conflicts');
  }
}
