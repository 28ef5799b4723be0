import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AccessTokens } from '../accounts/access-tokens';
import { AuditLog } from '../audit/audit-log';
import type { AuthUser } from '../common/auth-user';
import { DomainError, ErrorDetail, NotFoundError } from '../common/domain-error';
import type { TransportMode } from '../network/hanoi-network';
import { NetworkService } from '../network/network.service';
import { deviceSecretMatches, hashDeviceSecret, newDeviceSecret } from './device-secrets';
import type { DeviceDto, DeviceKind, DeviceTokenDto, RegisterDeviceDto, RegisteredDeviceDto } from './devices.dto';
import { deviceDisabled, deviceRole, DisabledDevices } from './disabled-devices';

interface DeviceRow {
  id: string;
  operator_id: string;
  line_id: string | null;
  station_id: string | null;
  kind: DeviceKind;
  created_at: Date;
  disabled_at: Date | null;
}

const DEVICE_COLUMNS = 'id, operator_id, line_id, station_id, kind, created_at, disabled_at';

/** Gates stand in stations (metro, BRT); bus validators ride on buses (bus, BRT). Inspectors' handsets serve no one line. */
const MODES_BY_KIND: Record<Exclude<DeviceKind, 'inspector'>, readonly TransportMode[]> = { gate: ['metro', 'brt'], bus: ['bus', 'brt'] };

@Injectable()
export class DevicesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly network: NetworkService,
    private readonly tokens: AccessTokens,
    private readonly disabledDevices: DisabledDevices,
    private readonly audit: AuditLog,
  ) {}

  /** A new device on a line of its operator (and a station of that line, for gates); the secret is returned this once. */
  async register(admin: AuthUser, input: RegisterDeviceDto): Promise<RegisteredDeviceDto> {
    await this.checkPlacement(input);
    const secret = newDeviceSecret();
    const row = await this.db.transaction(async (em) => {
      const [inserted] = await em.query<DeviceRow[]>(
        `INSERT INTO devices (id, operator_id, line_id, station_id, kind, secret_hash) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${DEVICE_COLUMNS}`,
        [randomUUID(), input.operatorId, input.lineId ?? null, input.stationId ?? null, input.kind, hashDeviceSecret(secret)],
      );
      // The secret is never in the log: it is shown once, to the admin who registered the device.
      await this.audit.record(em, admin, { action: 'device.registered', subjectKind: 'device', subjectId: inserted.id, reason: 'device_registration', after: toDto(inserted) });
      return inserted;
    });
    await this.disabledDevices.knownNow(row.id, deviceRole(row.kind));
    return { ...toDto(row), secret };
  }

  /**
   * A device token for the right device id and secret: role validator for gates and bus validators,
   * role inspector for an inspector's handset; 401 otherwise, or once the device is disabled.
   */
  async issueToken(deviceId: string, secret: string): Promise<DeviceTokenDto> {
    const [row] = await this.db.query<Array<DeviceRow & { secret_hash: Buffer }>>(`SELECT ${DEVICE_COLUMNS}, secret_hash FROM devices WHERE id = $1`, [
      deviceId,
    ]);
    if (!row || !deviceSecretMatches(secret, row.secret_hash)) {
      throw new DomainError('unauthenticated', 'INVALID_CREDENTIALS', 'The device id or secret is wrong');
    }
    if (row.disabled_at !== null) throw deviceDisabled();
    // Devices seeded straight into Postgres become known here, on every copy, before their first tap.
    await this.disabledDevices.knownNow(row.id, deviceRole(row.kind));
    const { token, expiresIn } = this.tokens.sign(
      row.kind === 'inspector' || row.line_id === null
        ? { subject: 'handset', deviceId: row.id, operatorId: row.operator_id }
        : { subject: 'device', deviceId: row.id, operatorId: row.operator_id, lineId: row.line_id, stationId: row.station_id },
    );
    return { accessToken: token, expiresIn, tokenType: 'Bearer' };
  }

  /** Disables a device for good: its secret and every token it holds stop working on every copy of the service. */
  async disable(admin: AuthUser, deviceId: string): Promise<DeviceDto> {
    const device = await this.db.transaction(async (em) => {
      const [before] = await em.query<DeviceRow[]>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1 FOR UPDATE`, [deviceId]);
      if (!before) throw new NotFoundError('Device', deviceId);
      // TypeORM answers an UPDATE with [rows, count].
      const [[after]] = await em.query<[DeviceRow[], number]>(
        `UPDATE devices SET disabled_at = coalesce(disabled_at, now()) WHERE id = $1 RETURNING ${DEVICE_COLUMNS}`,
        [deviceId],
      );
      await this.audit.record(em, admin, { action: 'device.disabled', subjectKind: 'device', subjectId: deviceId, reason: 'device_disabled', before: toDto(before), after: toDto(after) });
      return after;
    });
    await this.disabledDevices.disabledNow(deviceId);
    return toDto(device);
  }

  async get(deviceId: string): Promise<DeviceDto> {
    const [row] = await this.db.query<DeviceRow[]>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1`, [deviceId]);
    if (!row) throw new NotFoundError('Device', deviceId);
    return toDto(row);
  }

  /** Devices of one operator, or of all when operatorId is undefined. */
  async list(operatorId: string | undefined): Promise<DeviceDto[]> {
    const rows =
      operatorId === undefined
        ? await this.db.query<DeviceRow[]>(`SELECT ${DEVICE_COLUMNS} FROM devices ORDER BY operator_id, line_id, id`)
        : await this.db.query<DeviceRow[]>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE operator_id = $1 ORDER BY line_id, id`, [operatorId]);
    return rows.map(toDto);
  }

  private async checkPlacement(input: RegisterDeviceDto): Promise<void> {
    const problems: ErrorDetail[] = [];
    const operators = await this.network.listOperators();
    if (!operators.some((operator) => operator.id === input.operatorId)) problems.push({ field: 'operatorId', problem: 'no such operator' });
    if (input.kind === 'inspector') {
      // A handset goes wherever its inspector does, on any line of the operator.
      if (input.lineId !== undefined) problems.push({ field: 'lineId', problem: "must be left out for an inspector's handset" });
      if (input.stationId !== undefined) problems.push({ field: 'stationId', problem: "must be left out for an inspector's handset" });
    } else if (input.lineId === undefined) {
      problems.push({ field: 'lineId', problem: `is required for a ${input.kind} validator` });
    } else {
      const line = await this.network.getLine(input.lineId).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      if (!line) problems.push({ field: 'lineId', problem: 'no such line' });
      else {
        if (line.operatorId !== input.operatorId) problems.push({ field: 'lineId', problem: `is run by ${line.operatorId}, not ${input.operatorId}` });
        if (!MODES_BY_KIND[input.kind].includes(line.mode)) problems.push({ field: 'kind', problem: `a ${input.kind} validator does not fit a ${line.mode} line` });
        if (input.kind === 'gate' && input.stationId === undefined) problems.push({ field: 'stationId', problem: 'is required for a gate' });
        if (input.kind === 'bus' && input.stationId !== undefined) problems.push({ field: 'stationId', problem: 'must be left out for a bus validator' });
        if (input.stationId !== undefined && !line.stations.some((station) => station.id === input.stationId)) {
          problems.push({ field: 'stationId', problem: `is not a station of ${line.id}` });
        }
      }
    }
    if (problems.length) throw new DomainError('invalid', 'VALIDATION_FAILED', 'The device cannot be placed there', problems);
  }
}

function toDto(row: DeviceRow): DeviceDto {
  return {
    deviceId: row.id,
    operatorId: row.operator_id,
    ...(row.line_id === null ? {} : { lineId: row.line_id }),
    ...(row.station_id === null ? {} : { stationId: row.station_id }),
    kind: row.kind,
    createdAt: row.created_at.toISOString(),
    ...(row.disabled_at === null ? {} : { disabledAt: row.disabled_at.toISOString() }),
  };
}
