import { previousWeekdays, usualExit, type CompletionRule } from './completion-rule';

const RULE: CompletionRule = { id: 'usual-exit-3-of-5', lookbackWeekdays: 5, minMatchingDays: 3 };

describe('previousWeekdays', () => {
  it('skips Saturdays and Sundays and starts the day before', () => {
    // 2026-12-07 is a Monday.
    expect(previousWeekdays('2026-12-07', 5)).toEqual(['2026-12-04', '2026-12-03', '2026-12-02', '2026-12-01', '2026-11-30']);
    expect(previousWeekdays('2026-12-05', 2)).toEqual(['2026-12-04', '2026-12-03']);
  });
});

describe('usualExit', () => {
  const on = (localDate: string, exitStationId: string) => ({ localDate, exitStationId });

  it('completes at the exit taken on 3 of the last 5 weekdays', () => {
    expect(usualExit(RULE, '2026-12-07', [on('2026-12-04', 'b'), on('2026-12-02', 'b'), on('2026-11-30', 'b'), on('2026-12-03', 'c')])).toBe('b');
  });

  it('counts a day once however many journeys it has, and ignores days outside the window', () => {
    expect(usualExit(RULE, '2026-12-07', [on('2026-12-04', 'b'), on('2026-12-04', 'b'), on('2026-12-04', 'b'), on('2026-12-03', 'b')])).toBeUndefined();
    // Weekend days and days older than five weekdays do not count.
    expect(usualExit(RULE, '2026-12-07', [on('2026-12-05', 'b'), on('2026-12-06', 'b'), on('2026-11-27', 'b'), on('2026-12-04', 'b')])).toBeUndefined();
  });

  it('prefers the exit of more days, then the most recent one', () => {
    const wide: CompletionRule = { ...RULE, lookbackWeekdays: 10 };
    const history = [on('2026-12-04', 'c'), on('2026-12-03', 'c'), on('2026-12-02', 'c'), on('2026-12-01', 'b'), on('2026-11-30', 'b'), on('2026-11-27', 'b'), on('2026-11-26', 'b')];
    expect(usualExit(wide, '2026-12-07', history)).toBe('b');
    expect(usualExit(wide, '2026-12-07', history.slice(0, 6))).toBe('c');
  });
});
