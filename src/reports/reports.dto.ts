import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { IsId } from '../common/dto-decorators';

const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

export class DayReportQuery {
  @ApiProperty({ example: '2026-11-21', description: 'The local day (Asia/Ho_Chi_Minh)' })
  @Matches(LOCAL_DATE, { message: 'date must be a local date YYYY-MM-DD' })
  date!: string;

  @ApiPropertyOptional({ example: 'hmc', description: "Operator staff: only their own (the default). Admins: any; none for the whole scheme" })
  @IsOptional()
  @IsId()
  operatorId?: string;
}

export const TREND_MAX_DAYS = 31;

export class TrendQuery {
  @ApiProperty({ example: '2026-11-21', description: 'The last local day of the trend (Asia/Ho_Chi_Minh)' })
  @Matches(LOCAL_DATE, { message: 'to must be a local date YYYY-MM-DD' })
  to!: string;

  @ApiPropertyOptional({ default: 30, minimum: 1, maximum: TREND_MAX_DAYS, description: 'How many days, ending with `to`' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(TREND_MAX_DAYS)
  days?: number;

  @ApiPropertyOptional({ example: 'hmc', description: "Operator staff: only their own (the default). Admins: any; none for the whole scheme" })
  @IsOptional()
  @IsId()
  operatorId?: string;
}

export class TapsByHourDto {
  @ApiProperty({ minimum: 0, maximum: 23, description: 'Local hour (Asia/Ho_Chi_Minh)' }) hour!: number;
  @ApiProperty() accepted!: number;
  @ApiProperty() rejected!: number;
}

export class TapsAtStationDto {
  @ApiProperty() operatorId!: string;
  @ApiProperty() lineId!: string;
  @ApiProperty() stationId!: string;
  @ApiProperty({ description: 'Position along the line, from 0' }) sequence!: number;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Accepted entry taps' }) entries!: number;
  @ApiProperty({ description: 'Accepted exit taps' }) exits!: number;
  @ApiProperty() rejected!: number;
}

export class TapReportDto {
  @ApiProperty({ example: '2026-11-21' }) date!: string;
  @ApiProperty({ example: 'Asia/Ho_Chi_Minh' }) timeZone!: string;
  @ApiProperty({ nullable: true, type: String, description: 'null: the whole scheme' }) operatorId!: string | null;
  @ApiProperty({ type: [TapsByHourDto], description: 'All 24 local hours, in order' }) byHour!: TapsByHourDto[];
  @ApiProperty({ type: [TapsAtStationDto], description: 'Every station of each line that saw a tap that day, in line order' }) byStation!: TapsAtStationDto[];
}

export class DeviceActivityDto {
  @ApiProperty() deviceId!: string;
  @ApiProperty() operatorId!: string;
  @ApiProperty({ nullable: true, type: String, description: 'Its last tap up to the end of the day (30 days back at most)' }) lastTapAt!: string | null;
  @ApiProperty({ description: 'Taps that day' }) taps!: number;
  @ApiProperty({ description: 'Of which rejected' }) rejected!: number;
  @ApiProperty({ description: 'rejected / taps, 0 without taps' }) rejectionShare!: number;
  @ApiProperty({ description: 'Of which uploaded offline (validations/batch)' }) offline!: number;
  @ApiProperty({ description: 'offline / taps, 0 without taps' }) offlineShare!: number;
}

export class DeviceActivityReportDto {
  @ApiProperty({ example: '2026-11-21' }) date!: string;
  @ApiProperty({ nullable: true, type: String }) operatorId!: string | null;
  @ApiProperty({ type: [DeviceActivityDto], description: 'Devices that tapped that day, and registered ones silent that day with their last tap in the 30 days before; join with GET /v1/devices' }) devices!: DeviceActivityDto[];
}

export class TrendDayDto {
  @ApiProperty({ example: '2026-11-21' }) date!: string;
  @ApiProperty({ enum: ['open', 'closed'] }) status!: string;
  @ApiProperty({ description: "The scheme's revenue that day (check.revenue of the statement)" }) revenue!: number;
  @ApiProperty({ description: "Allocated: to the operator asked for, or to all operators" }) allocated!: number;
  @ApiProperty({ description: 'Unallocated (scheme-wide)' }) unallocated!: number;
  @ApiProperty({ description: 'Accepted taps' }) taps!: number;
  @ApiProperty({ description: 'Rejected taps' }) rejected!: number;
  @ApiProperty({ description: 'Free rides' }) freeRides!: number;
  @ApiProperty({ description: 'Fare at risk: offline taps accepted but invalid, bank-card fares declined or not charged yet' }) revenueAtRisk!: number;
}

export class TrendReportDto {
  @ApiProperty({ nullable: true, type: String }) operatorId!: string | null;
  @ApiProperty({ type: [TrendDayDto], description: 'Oldest first; figures are those of each day\'s statement' }) days!: TrendDayDto[];
}
