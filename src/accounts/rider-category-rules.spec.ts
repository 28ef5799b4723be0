import { ageOn, categoryEnd, riderCategoryOn, riderCategoryTimeline } from './rider-category-rules';

describe('ageOn', () => {
  it('counts whole years, turning on the birthday', () => {
    expect(ageOn('1966-03-02', '2026-03-01')).toBe(59);
    expect(ageOn('1966-03-02', '2026-03-02')).toBe(60);
    expect(ageOn('1966-12-31', '2027-01-01')).toBe(60);
  });

  it('gives a 29 February birthday on 1 March in common years', () => {
    expect(ageOn('1964-02-29', '2024-02-29')).toBe(60);
    expect(ageOn('1964-02-29', '2025-02-28')).toBe(60);
    expect(ageOn('1964-02-29', '2025-03-01')).toBe(61);
  });
});

describe('riderCategoryOn', () => {
  const none = { verifiedDateOfBirth: null, approvedCategories: [] };

  it('is adult without approved claims or a verified date of birth', () => {
    expect(riderCategoryOn(none, '2026-01-01')).toBe('adult');
  });

  it('becomes elderly on the 60th birthday from a verified date of birth, without a new claim', () => {
    const rider = { verifiedDateOfBirth: '1966-03-02', approvedCategories: ['priority' as const] };
    expect(riderCategoryOn(rider, '2026-03-01')).toBe('priority');
    expect(riderCategoryOn(rider, '2026-03-02')).toBe('elderly');
  });

  it('ends an approved child concession on the sixth birthday', () => {
    const child = { verifiedDateOfBirth: '2020-06-15', approvedCategories: ['child' as const] };
    expect(riderCategoryOn(child, '2026-06-14')).toBe('child');
    expect(riderCategoryOn(child, '2026-06-15')).toBe('adult');
  });

  it('prefers a free category to priority', () => {
    expect(riderCategoryOn({ verifiedDateOfBirth: null, approvedCategories: ['priority', 'disabled'] }, '2026-01-01')).toBe('disabled');
    expect(riderCategoryOn({ verifiedDateOfBirth: null, approvedCategories: ['priority'] }, '2026-01-01')).toBe('priority');
  });
});

describe('riderCategoryTimeline', () => {
  const now = Date.parse('2026-12-07T10:00:00+07:00');

  it('ends a concession at its validUntil, and makes a rider elderly from the local midnight of their 60th birthday', () => {
    const until = Date.parse('2027-01-31T00:00:00+07:00');
    expect(riderCategoryTimeline(null, [{ category: 'priority', validUntil: until }], now)).toEqual([
      { from: 0, category: 'priority' },
      { from: until, category: 'adult' },
    ]);
    expect(riderCategoryTimeline('1967-03-01', [], now)).toEqual([
      { from: 0, category: 'adult' },
      { from: Date.parse('2027-03-01T00:00:00+07:00'), category: 'elderly' },
    ]);
    expect(categoryEnd(riderCategoryTimeline(null, [{ category: 'disabled', validUntil: null }], now))).toBeNull();
  });

  it('a child claim ends on the sixth birthday; a free category outlasts a priority one', () => {
    expect(riderCategoryTimeline('2021-02-10', [{ category: 'child', validUntil: null }], now)).toEqual([
      { from: 0, category: 'child' },
      { from: Date.parse('2027-02-10T00:00:00+07:00'), category: 'adult' },
      { from: Date.parse('2081-02-10T00:00:00+07:00'), category: 'elderly' },
    ]);
    const priorityEnd = Date.parse('2027-06-01T00:00:00+07:00');
    expect(riderCategoryTimeline(null, [{ category: 'priority', validUntil: priorityEnd }, { category: 'poor_household', validUntil: null }], now)).toEqual([{ from: 0, category: 'poor_household' }]);
  });
});
