/** The published rule that completes a forgotten exit (journey_completion_rules), as data. */
export interface CompletionRule {
  id: string;
  /** How many weekdays (Monday to Friday, local) before the journey's day are looked at. */
  lookbackWeekdays: number;
  /** On how many of them the rider must have closed the same entry at the same exit. */
  minMatchingDays: number;
}

/** One earlier completed journey from the same entry: its local date and where it ended. */
export interface PastExit {
  localDate: string;
  exitStationId: string;
}

/** The `count` weekdays before `localDate` (YYYY-MM-DD), most recent first. */
export function previousWeekdays(localDate: string, count: number): string[] {
  const day = new Date(`${localDate}T00:00:00Z`);
  if (Number.isNaN(day.getTime())) throw new Error(`not a date: ${localDate}`);
  const dates: string[] = [];
  while (dates.length < count) {
    day.setUTCDate(day.getUTCDate() - 1);
    const weekday = day.getUTCDay();
    if (weekday !== 0 && weekday !== 6) dates.push(day.toISOString().slice(0, 10));
  }
  return dates;
}

/**
 * The rider's usual exit from an entry under the rule: the exit taken on at least `minMatchingDays`
 * distinct days among the rule's weekdays (several journeys on one day count once). Two exits that
 * both qualify: the one used on more days, then the one used most recently; none: undefined.
 */
export function usualExit(rule: CompletionRule, journeyLocalDate: string, pastExits: readonly PastExit[]): string | undefined {
  const window = previousWeekdays(journeyLocalDate, rule.lookbackWeekdays);
  const rank = new Map(window.map((date, index) => [date, index]));
  const days = new Map<string, Set<string>>();
  for (const { localDate, exitStationId } of pastExits) {
    if (!rank.has(localDate)) continue;
    const seen = days.get(exitStationId) ?? new Set<string>();
    seen.add(localDate);
    days.set(exitStationId, seen);
  }
  const candidates = [...days.entries()]
    .filter(([, dates]) => dates.size >= rule.minMatchingDays)
    .map(([exit, dates]) => ({ exit, count: dates.size, latest: Math.min(...[...dates].map((date) => rank.get(date)!)) }));
  candidates.sort((a, b) => b.count - a.count || a.latest - b.latest);
  return candidates[0]?.exit;
}
