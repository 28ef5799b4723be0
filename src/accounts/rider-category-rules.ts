import { CONCESSION_CATEGORIES, FREE_RIDER_CATEGORIES, RiderCategory } from '../fares/rider-category';
import { DAY_MS, localDateAt, localDayStartMs } from '../fares/domain/local-time';

export const ELDERLY_FROM_AGE = 60;
export const CHILD_UNDER_AGE = 6;

/**
 * Whole years from a date of birth to a local date (both YYYY-MM-DD). Someone born on 29 February
 * has their birthday on 1 March in other years.
 */
export function ageOn(dateOfBirth: string, onDate: string): number {
  const [by, bm, bd] = dateOfBirth.split('-').map(Number) as [number, number, number];
  const [y, m, d] = onDate.split('-').map(Number) as [number, number, number];
  const hadBirthday = m > bm || (m === bm && d >= bd);
  return y - by - (hadBirthday ? 0 : 1);
}

export interface RiderFacts {
  /** From an approved concession claim; a self-declared date of birth never counts. */
  verifiedDateOfBirth: string | null;
  /** Categories of approved claims still valid now. */
  approvedCategories: readonly RiderCategory[];
}

/** Free categories first (any of them makes the ride free), then priority, then adult. */
const PRECEDENCE: readonly RiderCategory[] = [...FREE_RIDER_CATEGORIES, ...CONCESSION_CATEGORIES];

/**
 * The category fares use for a rider today. A verified age of 60 or more makes the rider elderly
 * from that birthday on, without a new claim; an approved child claim ends on the sixth birthday
 * when the date of birth is verified.
 */
export function riderCategoryOn(facts: RiderFacts, onDate: string): RiderCategory {
  const age = facts.verifiedDateOfBirth === null ? undefined : ageOn(facts.verifiedDateOfBirth, onDate);
  const held = new Set<RiderCategory>(facts.approvedCategories);
  if (age !== undefined && age >= ELDERLY_FROM_AGE) held.add('elderly');
  if (age !== undefined && age >= CHILD_UNDER_AGE) held.delete('child');
  return PRECEDENCE.find((category) => held.has(category)) ?? 'adult';
}

/** An approved concession claim: its category until `validUntil` (epoch ms; null: no end). */
export interface ApprovedConcession {
  category: RiderCategory;
  validUntil: number | null;
}

/** The category fares use from `from` (epoch ms) until the next span; the first span starts at 0. */
export interface CategorySpan {
  from: number;
  category: RiderCategory;
}

/**
 * The rider's category from `now` on, as spans: the current one, then each change to come (a
 * concession's end, a 60th or sixth birthday), so that the gates follow it without being told.
 */
export function riderCategoryTimeline(verifiedDateOfBirth: string | null, concessions: readonly ApprovedConcession[], now: number): CategorySpan[] {
  const categoryAt = (at: number) =>
    riderCategoryOn({ verifiedDateOfBirth, approvedCategories: concessions.filter((c) => c.validUntil === null || c.validUntil > at).map((c) => c.category) }, localDateAt(at));
  const changes = [...concessions.flatMap((c) => (c.validUntil === null ? [] : [c.validUntil])), ...birthdays(verifiedDateOfBirth)].filter((at) => at > now).sort((a, b) => a - b);
  const spans: CategorySpan[] = [{ from: 0, category: categoryAt(now) }];
  for (const at of changes) {
    const category = categoryAt(at);
    if (category !== spans[spans.length - 1].category) spans.push({ from: at, category });
  }
  return spans;
}

/** When the current category ends (epoch ms), or null. */
export function categoryEnd(spans: readonly CategorySpan[]): number | null {
  return spans.length > 1 ? spans[1].from : null;
}

/** The local midnights that start a sixth and a 60th birthday (29 February: 1 March in common years, as ageOn). */
function birthdays(dateOfBirth: string | null): number[] {
  if (dateOfBirth === null) return [];
  const [year, month, day] = dateOfBirth.split('-').map(Number) as [number, number, number];
  return [CHILD_UNDER_AGE, ELDERLY_FROM_AGE].map((age) => localDayStartMs(Math.floor(Date.UTC(year + age, month - 1, day) / DAY_MS)));
}
