import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every admin and support action is audited, including a day closed from the command line
 * (`npm run settle -- --close`), whose actor is `cli:<user>`, not an account: the actor id becomes text.
 */
export class AuditEveryAction1763800140000 implements MigrationInterface {
  name = 'AuditEveryAction1763800140000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE audit_log ALTER COLUMN actor_id TYPE text`);
    await db.query(`CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX audit_log_actor_idx`);
    await db.query(`ALTER TABLE audit_log ALTER COLUMN actor_id TYPE uuid USING actor_id::uuid`);
  }
}
