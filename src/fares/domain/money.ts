/**
 * The two rounding rules of Hà Nội's fares, in integer đồng.
 *
 * Distance: the per-km rate is applied to whole metres, and the fraction of a đồng is dropped
 * (rounded down, in the rider's favour). Published positions are whole hundreds of metres, where
 * 850 đ/km gives whole đồng (85 per 100 m), so the published fares are exact.
 * Cash: the electronic fare rounded up to the next multiple of the unit (1,000 đồng), as published.
 */
export function perKmCharge(perKmAmount: number, metres: number): number {
  const milliDong = perKmAmount * metres; // stays far below 2^53 for any real fare and distance
  return (milliDong - (milliDong % 1000)) / 1000;
}

export function roundUpToUnit(amount: number, unit: number): number {
  const remainder = amount % unit;
  return remainder === 0 ? amount : amount - remainder + unit;
}
