import type { DataSource } from 'typeorm';
import { hashDeviceSecret } from './device-secrets';
import type { DeviceKind } from './devices.dto';

export interface DeviceSeed {
  deviceId: string;
  secret: string;
  operatorId: string;
  /** None for an inspector's handset. */
  lineId?: string;
  stationId?: string;
  kind: DeviceKind;
}

/**
 * Creates the device, or gives an existing one with that id this placement and secret. A disabled
 * device stays disabled (devices are never re-enabled); the result says so.
 */
export async function upsertDevice(db: DataSource, seed: DeviceSeed): Promise<{ disabled: boolean }> {
  const [row] = await db.query<Array<{ disabled: boolean }>>(
    `INSERT INTO devices (id, operator_id, line_id, station_id, kind, secret_hash) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO UPDATE SET operator_id = EXCLUDED.operator_id, line_id = EXCLUDED.line_id,
       station_id = EXCLUDED.station_id, kind = EXCLUDED.kind, secret_hash = EXCLUDED.secret_hash
     RETURNING disabled_at IS NOT NULL AS disabled`,
    [seed.deviceId, seed.operatorId, seed.lineId ?? null, seed.stationId ?? null, seed.kind, hashDeviceSecret(seed.secret)],
  );
  return { disabled: row.disabled };
}
