import fc from 'fast-check';
import { HANOI_LINES } from '../../network/hanoi-network';
import { HANOI_FARE_TABLES, HANOI_PRODUCTS, HANOI_WAIVERS, HANOI_ZONES } from '../hanoi-fares';
import { RIDER_CATEGORIES } from '../rider-category';
import { FareCalculator, MODE_BITS, type PayAsYouGoSpend } from './fare-calculator';
import { localDayNumber, localWeekNumber } from './local-time';

const fares = new FareCalculator({ lines: HANOI_LINES, zones: HANOI_ZONES, fareTables: HANOI_FARE_TABLES, products: HANOI_PRODUCTS, waivers: HANOI_WAIVERS });

/** Any instant from the first Hà Nội fare table to the end of 2028, waivers included. */
const instant = fc.integer({ min: Date.parse('2025-08-01T00:00:00+07:00'), max: Date.parse('2028-12-31T23:59:59+07:00') });
const category = fc.constantFrom(...RIDER_CATEGORIES);
/** A random trip: a line, then two of its stations. */
const trip = fc
  .constantFrom(...HANOI_LINES)
  .chain((line) => fc.record({ line: fc.constant(line), from: fc.constantFrom(...line.stations), to: fc.constantFrom(...line.stations) }));

describe('FareCalculator properties over random trips', () => {
  it('never quotes a negative fare nor one above the line maximum, and cash never below electronic', () => {
    fc.assert(
      fc.property(trip, category, instant, ({ line, from, to }, rider, at) => {
        const quote = fares.quote(line.id, from.id, to.id, rider, at);
        const maximum = fares.maximumFare(line.id, rider, at);
        expect(quote.amount).toBeGreaterThanOrEqual(0);
        expect(Number.isSafeInteger(quote.amount)).toBe(true);
        expect(quote.amount).toBeLessThanOrEqual(quote.fullAmount);
        expect(quote.fullAmount).toBeLessThanOrEqual(maximum.fullAmount);
        expect(quote.cashAmount).toBeGreaterThanOrEqual(quote.amount);
        expect(quote.cashAmount % 1000).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('is symmetric in direction', () => {
    fc.assert(
      fc.property(trip, category, instant, ({ line, from, to }, rider, at) => {
        expect(fares.quote(line.id, to.id, from.id, rider, at)).toEqual(fares.quote(line.id, from.id, to.id, rider, at));
      }),
      { numRuns: 2000 },
    );
  });

  it('never charges more with caps than without, nor more than the pass prices per day and week', () => {
    const journeys = fc.array(fc.record({ trip, minutesLater: fc.integer({ min: 0, max: 6 * 60 }) }), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(journeys, category, instant, (legs, rider, start) => {
        let at = start;
        let spend: PayAsYouGoSpend = { daySpent: 0, dayModes: 0, weekSpent: 0, weekModes: 0 };
        let [day, week] = [localDayNumber(at), localWeekNumber(at)];
        let [capped, uncapped] = [0, 0];
        for (const { trip: leg, minutesLater } of legs) {
          at += minutesLater * 60_000;
          if (localWeekNumber(at) !== week) spend = { daySpent: 0, dayModes: 0, weekSpent: 0, weekModes: 0 };
          else if (localDayNumber(at) !== day) spend = { ...spend, daySpent: 0, dayModes: 0 };
          [day, week] = [localDayNumber(at), localWeekNumber(at)];
          const quote = fares.quote(leg.line.id, leg.from.id, leg.to.id, rider, at);
          const { charge, dayCap, weekCap } = fares.chargeLeg(quote, spend);
          expect(charge).toBeGreaterThanOrEqual(0);
          expect(charge).toBeLessThanOrEqual(quote.amount);
          const bit = MODE_BITS[quote.mode];
          spend = { daySpent: spend.daySpent + charge, dayModes: spend.dayModes | bit, weekSpent: spend.weekSpent + charge, weekModes: spend.weekModes | bit };
          if (dayCap !== null) expect(spend.daySpent).toBeLessThanOrEqual(dayCap);
          if (weekCap !== null) expect(spend.weekSpent).toBeLessThanOrEqual(weekCap);
          capped += charge;
          uncapped += quote.amount;
        }
        expect(capped).toBeLessThanOrEqual(uncapped);
      }),
      { numRuns: 500 },
    );
  });
});
