import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The highest counter each transit card presented at a gate, kept by the media module from the tap
 * events: the gate-state rebuild writes it back to Redis, so a Redis that lost its data still finds a
 * copy of a card that replays an old counter.
 */
export class MediaCounters1763800171000 implements MigrationInterface {
  name = 'MediaCounters1763800171000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE media ADD COLUMN last_counter bigint CHECK (last_counter >= 0)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE media DROP COLUMN last_counter`);
  }
}
