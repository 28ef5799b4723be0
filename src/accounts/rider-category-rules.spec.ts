import { ageOn, riderCategoryOn } from './rider-category-rules';

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
