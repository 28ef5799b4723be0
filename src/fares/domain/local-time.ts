/**
 * The scheme's local time, Asia/Ho_Chi_Minh. Việt Nam has kept UTC+07:00 without daylight saving
 * since 1975, so a fixed offset is exact and keeps the gate path free of time-zone lookups.
 */
export const LOCAL_UTC_OFFSET_MS = 7 * 60 * 60 * 1000;
/** One day; the only definition (the gate's Lua gets it from validation/gate-state.ts). */
export const DAY_MS = 24 * 60 * 60 * 1000;

/** Days since 1970-01-01 in local time: the key of a fare day (capping, settlement). */
export function localDayNumber(atMs: number): number {
  return Math.floor((atMs + LOCAL_UTC_OFFSET_MS) / DAY_MS);
}

/** Weeks since the local Monday 1969-12-29: fare weeks run Monday to Sunday, as TfL's weekly cap. */
export function localWeekNumber(atMs: number): number {
  // 1970-01-01 was a Thursday, three days after a Monday.
  return Math.floor((localDayNumber(atMs) + 3) / 7);
}

/** The instant a local day starts. */
export function localDayStartMs(dayNumber: number): number {
  return dayNumber * DAY_MS - LOCAL_UTC_OFFSET_MS;
}

/** `YYYY-MM-DD` of a local day. */
export function localDate(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

/** The local calendar date (`YYYY-MM-DD`) at an instant. */
export function localDateAt(atMs: number): string {
  return localDate(localDayNumber(atMs));
}

/** `YYYYMMDD` of a local day, as GTFS writes dates and partitions are named. */
export function compactLocalDate(dayNumber: number): string {
  return localDate(dayNumber).replace(/-/g, '');
}
