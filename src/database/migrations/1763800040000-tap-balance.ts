import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A pay-as-you-go tap's balance after it, as its verdict said: a batch tap Postgres already holds is
 * answered from the record once Redis has forgotten it (issue 15), with the verdict it first got.
 */
export class TapBalance1763800040000 implements MigrationInterface {
  name = 'TapBalance1763800040000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE taps ADD COLUMN balance bigint`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE taps DROP COLUMN balance`);
  }
}
