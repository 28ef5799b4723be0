import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthUser } from '../common/auth-user';
import { operatorScope } from '../common/operator-scope';
import { dayBounds, SettlementService } from '../settlement/settlement.service';
import { SETTLEMENT_TIME_ZONE } from '../settlement/statement';
import type { DeviceActivityReportDto, TapReportDto, TrendDayDto, TrendReportDto } from './reports.dto';

const DAY_MS = 24 * 60 * 60 * 1000;
/** How far back a device's last tap is looked for: a validator silent for longer is simply "no tap". */
const LAST_TAP_WINDOW_DAYS = 30;
const int = (value: string | number | null | undefined) => Number(value ?? 0);
const share = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000);

function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Read-only figures for operators' consoles that the statement does not carry: taps by local hour and
 * by station, each validator's activity, and a run of days. Read from the tap record, operators
 * through each tap's line (as the statement does), and scoped like the statement.
 */
@Injectable()
export class ReportsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly settlement: SettlementService,
  ) {}

  async taps(user: AuthUser, date: string, requestedOperatorId: string | undefined): Promise<TapReportDto> {
    const operatorId = operatorScope(user, requestedOperatorId) ?? null;
    const day = dayBounds(date);
    const hours = await this.db.query<Array<{ hour: number; accepted: string; rejected: string }>>(
      `SELECT extract(hour FROM tp.occurred_at AT TIME ZONE '${SETTLEMENT_TIME_ZONE}')::int AS hour,
              count(*) FILTER (WHERE tp.verdict = 'accept') AS accepted, count(*) FILTER (WHERE tp.verdict = 'reject') AS rejected
         FROM taps tp JOIN lines l ON l.id = tp.line_id
        WHERE tp.occurred_at >= $1 AND tp.occurred_at < $2 AND ($3::text IS NULL OR l.operator_id = $3)
        GROUP BY 1`,
      [day.start, day.end, operatorId],
    );
    const byHour = Array.from({ length: 24 }, (_, hour) => {
      const row = hours.find((candidate) => candidate.hour === hour);
      return { hour, accepted: int(row?.accepted), rejected: int(row?.rejected) };
    });
    const stations = await this.db.query<Array<Record<string, string | number>>>(
      `WITH counts AS (
         SELECT tp.line_id, tp.station_id,
                count(*) FILTER (WHERE tp.verdict = 'accept' AND tp.direction = 'entry') AS entries,
                count(*) FILTER (WHERE tp.verdict = 'accept' AND tp.direction = 'exit') AS exits,
                count(*) FILTER (WHERE tp.verdict = 'reject') AS rejected
           FROM taps tp JOIN lines l ON l.id = tp.line_id
          WHERE tp.occurred_at >= $1 AND tp.occurred_at < $2 AND ($3::text IS NULL OR l.operator_id = $3)
          GROUP BY 1, 2)
       SELECT l.operator_id, s.line_id, s.id AS station_id, s.sequence, s.name,
              coalesce(c.entries, 0) AS entries, coalesce(c.exits, 0) AS exits, coalesce(c.rejected, 0) AS rejected
         FROM stations s JOIN lines l ON l.id = s.line_id
         LEFT JOIN counts c ON c.line_id = s.line_id AND c.station_id = s.id
        WHERE s.line_id IN (SELECT line_id FROM counts)
        ORDER BY l.operator_id, s.line_id, s.sequence`,
      [day.start, day.end, operatorId],
    );
    return {
      date,
      timeZone: SETTLEMENT_TIME_ZONE,
      operatorId,
      byHour,
      byStation: stations.map((row) => ({
        operatorId: String(row.operator_id),
        lineId: String(row.line_id),
        stationId: String(row.station_id),
        sequence: int(row.sequence),
        name: String(row.name),
        entries: int(row.entries),
        exits: int(row.exits),
        rejected: int(row.rejected),
      })),
    };
  }

  /**
   * The day's figures come from the day's partition alone. Only validators silent all day are looked
   * up in the days before (through each partition's (device_id, …) key), so a day of millions of taps
   * is read once, not thirty times.
   */
  async deviceActivity(user: AuthUser, date: string, requestedOperatorId: string | undefined): Promise<DeviceActivityReportDto> {
    const operatorId = operatorScope(user, requestedOperatorId) ?? null;
    const day = dayBounds(date);
    const rows = await this.db.query<Array<{ device_id: string; operator_id: string; last_tap_at: Date; taps: string; rejected: string; offline: string }>>(
      `SELECT tp.device_id, min(l.operator_id) AS operator_id, max(tp.occurred_at) AS last_tap_at, count(*) AS taps,
              count(*) FILTER (WHERE tp.verdict = 'reject') AS rejected, count(*) FILTER (WHERE tp.offline) AS offline
         FROM taps tp JOIN lines l ON l.id = tp.line_id
        WHERE tp.occurred_at >= $1 AND tp.occurred_at < $2 AND ($3::text IS NULL OR l.operator_id = $3)
        GROUP BY 1`,
      [day.start, day.end, operatorId],
    );
    const seen = new Set(rows.map((row) => row.device_id));
    const registered = await this.db.query<Array<{ id: string }>>(`SELECT id FROM devices WHERE $1::text IS NULL OR operator_id = $1`, [operatorId]);
    const silent = registered.map((row) => row.id).filter((id) => !seen.has(id));
    const earlier =
      silent.length === 0
        ? []
        : await this.db.query<Array<{ device_id: string; operator_id: string; last_tap_at: Date }>>(
            `SELECT tp.device_id, min(l.operator_id) AS operator_id, max(tp.occurred_at) AS last_tap_at
               FROM taps tp JOIN lines l ON l.id = tp.line_id
              WHERE tp.device_id = ANY($1) AND tp.occurred_at >= $2 AND tp.occurred_at < $3 AND ($4::text IS NULL OR l.operator_id = $4)
              GROUP BY 1`,
            [silent, new Date(day.start.getTime() - LAST_TAP_WINDOW_DAYS * DAY_MS), day.start, operatorId],
          );
    const devices = [
      ...rows.map((row) => {
        const taps = int(row.taps);
        return {
          deviceId: row.device_id,
          operatorId: row.operator_id,
          lastTapAt: new Date(row.last_tap_at).toISOString(),
          taps,
          rejected: int(row.rejected),
          rejectionShare: share(int(row.rejected), taps),
          offline: int(row.offline),
          offlineShare: share(int(row.offline), taps),
        };
      }),
      ...earlier.map((row) => ({ deviceId: row.device_id, operatorId: row.operator_id, lastTapAt: new Date(row.last_tap_at).toISOString(), taps: 0, rejected: 0, rejectionShare: 0, offline: 0, offlineShare: 0 })),
    ];
    devices.sort((a, b) => a.operatorId.localeCompare(b.operatorId) || a.deviceId.localeCompare(b.deviceId));
    return { date, operatorId, devices };
  }

  /** Each day's figures as its statement gives them (frozen for a closed day), with the accepted taps of the record. */
  async trend(user: AuthUser, to: string, days: number, requestedOperatorId: string | undefined): Promise<TrendReportDto> {
    const operatorId = operatorScope(user, requestedOperatorId) ?? null;
    const from = shiftDate(to, -(days - 1));
    const [first, last] = [dayBounds(from), dayBounds(to)];
    const accepted = await this.db.query<Array<{ day: string; taps: string }>>(
      `SELECT to_char(tp.occurred_at AT TIME ZONE '${SETTLEMENT_TIME_ZONE}', 'YYYY-MM-DD') AS day, count(*) AS taps
         FROM taps tp JOIN lines l ON l.id = tp.line_id
        WHERE tp.occurred_at >= $1 AND tp.occurred_at < $2 AND tp.verdict = 'accept' AND ($3::text IS NULL OR l.operator_id = $3)
        GROUP BY 1`,
      [first.start, last.end, operatorId],
    );
    const result: TrendDayDto[] = [];
    for (let offset = 0; offset < days; offset++) {
      const date = shiftDate(from, offset);
      const statement = await this.settlement.statement(user, date, operatorId ?? undefined);
      const allocated = operatorId === null ? statement.check.allocated : statement.operators.reduce((sum, row) => sum + row.total, 0);
      result.push({
        date,
        status: statement.status,
        revenue: statement.check.revenue,
        allocated,
        unallocated: statement.check.unallocated,
        taps: int(accepted.find((row) => row.day === date)?.taps),
        rejected: statement.rejectedTaps.reduce((sum, row) => sum + row.taps, 0),
        freeRides: statement.freeRides.reduce((sum, row) => sum + row.rides, 0),
        revenueAtRisk: statement.revenueAtRisk.reduce((sum, row) => sum + row.fareAtRisk, 0),
      });
    }
    return { operatorId, days: result };
  }
}
