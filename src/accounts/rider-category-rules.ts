import { CONCESSION_CATEGORIES, FREE_RIDER_CATEGORIES, RiderCategory } from '../fares/rider-category';

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
