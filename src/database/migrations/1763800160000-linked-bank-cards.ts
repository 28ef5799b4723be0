import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A bank card linked to an account opens the account's pay as you go: its taps and journeys are the
 * account's (`subject_kind` payg) and name the card that pays them (`card_id`); a card's own journeys
 * keep `subject_kind` bank_card. A linked card keeps the account's rider category at linking, which
 * the gates apply to its fares.
 */
export class LinkedBankCards1763800160000 implements MigrationInterface {
  name = 'LinkedBankCards1763800160000';

  async up(db: QueryRunner): Promise<void> {
    for (const table of ['taps', 'journeys']) {
      await db.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_card_subject`);
      await db.query(
        `ALTER TABLE ${table} ADD CONSTRAINT ${table}_card_subject CHECK ((subject_kind <> 'bank_card' OR card_id IS NOT NULL) AND (card_id IS NULL OR subject_kind IN ('bank_card', 'payg')))`,
      );
    }
    await db.query(`ALTER TABLE bank_cards ADD COLUMN rider_category text`);
    await db.query(`UPDATE bank_cards SET rider_category = 'adult' WHERE account_id IS NOT NULL`);
    await db.query(`ALTER TABLE bank_cards ADD CONSTRAINT bank_cards_linked_category CHECK ((account_id IS NULL) = (rider_category IS NULL))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE bank_cards DROP COLUMN rider_category`);
    for (const table of ['taps', 'journeys']) {
      await db.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_card_subject`);
      await db.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_card_subject CHECK ((subject_kind = 'bank_card') = (card_id IS NOT NULL))`);
    }
  }
}
