import { MigrationInterface, QueryRunner } from 'typeorm';
import { dropChecks } from './1763800070000-riders-service';

/**
 * Penalty fares paid through the payment gateway: a payment's purpose may be `penalty`, naming the
 * penalty it pays; at most one such payment is pending per penalty at a time.
 */
export class PenaltyPayments1763800142000 implements MigrationInterface {
  name = 'PenaltyPayments1763800142000';

  async up(db: QueryRunner): Promise<void> {
    await dropChecks(db, 'payments', '%purpose%');
    await db.query(`ALTER TABLE payments ADD COLUMN penalty_id uuid REFERENCES penalties (id) ON DELETE RESTRICT`);
    await db.query(`ALTER TABLE payments ADD CONSTRAINT payments_purpose_check CHECK (purpose IN ('top_up', 'order', 'penalty'))`);
    await db.query(`ALTER TABLE payments ADD CONSTRAINT payments_order_check CHECK ((purpose = 'order') = (order_id IS NOT NULL))`);
    await db.query(`ALTER TABLE payments ADD CONSTRAINT payments_penalty_check CHECK ((purpose = 'penalty') = (penalty_id IS NOT NULL))`);
    await db.query(`CREATE UNIQUE INDEX payments_pending_penalty_idx ON payments (penalty_id) WHERE status = 'pending'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM payments WHERE purpose = 'penalty'`);
    await dropChecks(db, 'payments', '%purpose%');
    await db.query(`ALTER TABLE payments DROP COLUMN penalty_id`);
    await db.query(`ALTER TABLE payments ADD CONSTRAINT payments_purpose_check CHECK (purpose IN ('top_up', 'order'))`);
    await db.query(`ALTER TABLE payments ADD CONSTRAINT payments_order_check CHECK ((purpose = 'order') = (order_id IS NOT NULL))`);
  }
}
