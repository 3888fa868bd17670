import { describe, expect, it } from 'vitest';
import { nearestRank } from '../../shared/percentile';

describe('nearestRank', () => {
  it('is the smallest value with p % of the values at or below it', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([50, 95, 99, 100].map((p) => nearestRank(sorted, p))).toEqual([50, 95, 99, 100]);
    expect(nearestRank([10, 20, 30], 50)).toBe(20);
    expect(nearestRank([10, 20, 30], 34)).toBe(20);
    expect(nearestRank([10, 20, 30], 33)).toBe(10);
  });

  it('gives the least value at p 0 and undefined for no values', () => {
    expect(nearestRank([4, 5], 0)).toBe(4);
    expect(nearestRank([], 50)).toBeUndefined();
  });
});
