import { MigrationInterface, QueryRunner } from 'typeorm';

/** An app medium keeps its phone's public key (a P-256 point, public by nature), so that the phone can renew its credential. */
export class MediaPhoneKeys1763800172000 implements MigrationInterface {
  name = 'MediaPhoneKeys1763800172000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE media ADD COLUMN phone_key bytea CHECK (phone_key IS NULL OR kind = 'app')`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE media DROP COLUMN phone_key`);
  }
}
