import canonicalJson from 'fast-json-stable-stringify';

describe('the canonical JSON behind request fingerprints', () => {
  it('is the same for the same body whatever the order of its fields', () => {
    const a = { payWith: 'wallet', items: [{ productId: 'metro-day', quantity: 2 }] };
    const b = { items: [{ quantity: 2, productId: 'metro-day' }], payWith: 'wallet' };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"items":[{"productId":"metro-day","quantity":2}],"payWith":"wallet"}');
  });

  it('tells apart bodies that differ in any value, in array order or in type', () => {
    const base = canonicalJson({ items: [1, 2], amount: 100 });
    expect(canonicalJson({ items: [2, 1], amount: 100 })).not.toBe(base);
    expect(canonicalJson({ items: [1, 2], amount: '100' })).not.toBe(base);
    expect(canonicalJson({ items: [1, 2], amount: 100, extra: null })).not.toBe(base);
    expect(canonicalJson(null)).toBe('null');
  });
});
