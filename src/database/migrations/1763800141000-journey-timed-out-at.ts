import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When the gates closed a journey at the maximum fare (the timeout's time): the day and week whose cap
 * spend counted that fare, so a correction lowers the right ones. Older rows have none (null).
 */
export class JourneyTimedOutAt1763800141000 implements MigrationInterface {
  name = 'JourneyTimedOutAt1763800141000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE journeys ADD COLUMN timed_out_at timestamptz`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE journeys DROP COLUMN timed_out_at`);
  }
}
