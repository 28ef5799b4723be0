import { MigrationInterface, QueryRunner } from 'typeorm';
import { dropChecks } from './1763800070000-riders-service';

/**
 * Inspectors' handsets are devices, registered like validators: kind `inspector`, bound to an operator
 * and to no line or station (an inspector checks any line of the operator). An inspection, and a penalty
 * it led to, is made by an inspector's account or by such a device: exactly one of the two.
 */
export class InspectorDevices1763800180000 implements MigrationInterface {
  name = 'InspectorDevices1763800180000';

  async up(db: QueryRunner): Promise<void> {
    await dropChecks(db, 'devices', '%bus%');
    await db.query(`ALTER TABLE devices ADD CONSTRAINT devices_kind_check CHECK (kind IN ('gate', 'bus', 'inspector'))`);
    await db.query(`ALTER TABLE devices ALTER COLUMN line_id DROP NOT NULL`);
    await db.query(`ALTER TABLE devices ADD CONSTRAINT devices_line_by_kind CHECK ((kind = 'inspector') = (line_id IS NULL))`);

    await db.query(`ALTER TABLE inspections ALTER COLUMN inspector_id DROP NOT NULL`);
    await db.query(`ALTER TABLE inspections ADD COLUMN device_id text REFERENCES devices (id) ON DELETE RESTRICT`);
    await db.query(`ALTER TABLE inspections ADD CONSTRAINT inspections_one_inspector CHECK ((inspector_id IS NULL) <> (device_id IS NULL))`);
    await db.query(`ALTER TABLE penalties ALTER COLUMN issued_by DROP NOT NULL`);
    await db.query(`ALTER TABLE penalties ADD COLUMN issued_by_device text REFERENCES devices (id) ON DELETE RESTRICT`);
    await db.query(`ALTER TABLE penalties ADD CONSTRAINT penalties_one_issuer CHECK ((issued_by IS NULL) <> (issued_by_device IS NULL))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE penalties DROP CONSTRAINT penalties_one_issuer, DROP COLUMN issued_by_device, ALTER COLUMN issued_by SET NOT NULL`);
    await db.query(`ALTER TABLE inspections DROP CONSTRAINT inspections_one_inspector, DROP COLUMN device_id, ALTER COLUMN inspector_id SET NOT NULL`);
    await db.query(`ALTER TABLE devices DROP CONSTRAINT devices_line_by_kind, DROP CONSTRAINT devices_kind_check`);
    await db.query(`ALTER TABLE devices ALTER COLUMN line_id SET NOT NULL`);
    await db.query(`ALTER TABLE devices ADD CONSTRAINT devices_kind_check CHECK (kind IN ('gate', 'bus'))`);
  }
}
