import { MigrationInterface, QueryRunner } from 'typeorm';
import { dropChecks } from './1763800070000-riders-service';

/**
 * Media of an account (src/media): the cards and the app's virtual card an account is reached
 * through, each found by a keyed hash of its number (HMAC-SHA256 under MEDIA_LOOKUP_SECRET: a CCCD
 * number is never stored), with every change of status kept in media_events (the history, and the
 * deny list's feed). Taps and journeys name the medium's kind and its id (a linked medium) or hash
 * (an unlinked chip ID card); `free` is the subject of a ride without an account (a rider of 60 or
 * more on their CCCD alone).
 */
export class Media1763800110000 implements MigrationInterface {
  name = 'Media1763800110000';

  async up(db: QueryRunner): Promise<void> {
    // account_id is null for a transit card registered by the scheme but not yet linked. birth_check:
    // chip ID cards only, HMAC of (number, date of birth) as the rider gave them at linking. card_uid: a
    // transit card's UID (a serial the card sends in the clear at every tap, not a secret), for the deny list
    // that offline validators match cards against.
    await db.query(`
      CREATE TABLE media (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL CHECK (kind IN ('app', 'transit_card', 'id_card')),
        lookup_hash text NOT NULL,
        account_id uuid REFERENCES accounts (id) ON DELETE RESTRICT,
        status text NOT NULL CHECK (status IN ('active', 'blocked', 'replaced')),
        label text NOT NULL,
        rider_category text NOT NULL DEFAULT 'adult',
        birth_check text,
        card_uid text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (kind, lookup_hash),
        CHECK (kind = 'transit_card' OR account_id IS NOT NULL),
        CHECK ((kind = 'transit_card') = (card_uid IS NOT NULL))
      )`);
    await db.query(`CREATE INDEX media_account_idx ON media (account_id, created_at)`);
    await db.query(`
      CREATE TABLE media_events (
        id bigserial PRIMARY KEY,
        media_id uuid NOT NULL REFERENCES media (id) ON DELETE RESTRICT,
        status text NOT NULL CHECK (status IN ('active', 'blocked', 'replaced')),
        previous_status text CHECK (previous_status IN ('active', 'blocked', 'replaced')),
        account_id uuid,
        reason text NOT NULL,
        actor_id uuid,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await db.query(`CREATE INDEX media_events_media_idx ON media_events (media_id, id)`);
    await db.query(`CREATE INDEX media_events_at_idx ON media_events (at, media_id)`);

    for (const table of ['taps', 'journeys']) {
      await db.query(`ALTER TABLE ${table} ADD COLUMN medium_kind text NOT NULL DEFAULT 'qr'`);
      await db.query(`ALTER TABLE ${table} ADD COLUMN medium_ref text`);
      await dropChecks(db, table, '%subject_kind%');
      await db.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_subject_kind_check CHECK (subject_kind IN ('single', 'pass', 'payg', 'free'))`);
    }
    await db.query(`ALTER TABLE taps ADD CONSTRAINT taps_ticket_check CHECK ((subject_kind IN ('payg', 'free')) = (ticket_id IS NULL))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM taps WHERE subject_kind = 'free'`);
    await db.query(`DELETE FROM journeys WHERE subject_kind = 'free'`);
    for (const table of ['taps', 'journeys']) {
      await dropChecks(db, table, '%subject_kind%');
      await db.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_subject_kind_check CHECK (subject_kind IN ('single', 'pass', 'payg'))`);
      await db.query(`ALTER TABLE ${table} DROP COLUMN medium_ref`);
      await db.query(`ALTER TABLE ${table} DROP COLUMN medium_kind`);
    }
    await db.query(`ALTER TABLE taps ADD CONSTRAINT taps_ticket_check CHECK ((subject_kind = 'payg') = (ticket_id IS NULL))`);
    await db.query('DROP TABLE media_events');
    await db.query('DROP TABLE media');
  }
}

