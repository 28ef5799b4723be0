import { compactLocalDate, localDate, localDateAt, localDayNumber } from './local-time';

describe('local dates', () => {
  it("is Hà Nội's calendar day (UTC+7)", () => {
    expect(localDateAt(Date.parse('2026-03-01T16:59:59Z'))).toBe('2026-03-01');
    expect(localDateAt(Date.parse('2026-03-01T17:00:00Z'))).toBe('2026-03-02');
  });

  it('writes a local day as YYYY-MM-DD, and as YYYYMMDD for GTFS and partition names', () => {
    const day = localDayNumber(Date.parse('2026-11-22T00:30:00+07:00'));
    expect(localDate(day)).toBe('2026-11-22');
    expect(compactLocalDate(day)).toBe('20261122');
    expect(localDate(day - 1)).toBe('2026-11-21');
  });
});
