import { quoteRiderCategory } from './fares.service';

describe('quoteRiderCategory', () => {
  it('takes the category asked for, else the signed-in passenger’s, else adult', () => {
    expect(quoteRiderCategory('priority', { id: 'a', role: 'passenger', riderCategory: 'elderly' })).toBe('priority');
    expect(quoteRiderCategory(undefined, { id: 'a', role: 'passenger', riderCategory: 'elderly' })).toBe('elderly');
    expect(quoteRiderCategory(undefined, { id: 'a', role: 'passenger' })).toBe('adult');
    // Staff and devices have no rider category of their own.
    expect(quoteRiderCategory(undefined, { id: 'a', role: 'admin', riderCategory: 'child' })).toBe('adult');
    expect(quoteRiderCategory(undefined, undefined)).toBe('adult');
  });
});
