import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A medium no longer keeps the rider category its account had when it was linked: the gates take the
 * account's category of the moment (`…:a:<id>:rider`, written by the accounts module).
 */
export class MediaCategoryFollowsAccount1763800170000 implements MigrationInterface {
  name = 'MediaCategoryFollowsAccount1763800170000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE media DROP COLUMN rider_category`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE media ADD COLUMN rider_category text NOT NULL DEFAULT 'adult'`);
  }
}
