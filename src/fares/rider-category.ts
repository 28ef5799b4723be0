/** Rider categories of Hà Nội's scheme (domain/hanoi.md). */
export const RIDER_CATEGORIES = ['adult', 'priority', 'elderly', 'disabled', 'meritorious', 'poor_household', 'child'] as const;
export type RiderCategory = (typeof RIDER_CATEGORIES)[number];

/** Since 1 Sep 2019 these groups ride free; their taps are still counted for the city's subsidy. */
export const FREE_RIDER_CATEGORIES: readonly RiderCategory[] = ['elderly', 'disabled', 'meritorious', 'poor_household', 'child'];

/** Categories a passenger must claim with evidence (a concession) rather than get by default. */
export const CONCESSION_CATEGORIES: readonly RiderCategory[] = ['priority', ...FREE_RIDER_CATEGORIES];
