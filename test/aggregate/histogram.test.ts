import { describe, expect, it } from 'vitest';
import { histAdd, histCount, histDelta32, log2MaxBound, log2Quantile, slotHigh, slotLow } from '../../src/aggregate/histogram.js';

describe('log2 histogram', () => {
  it('slot bounds', () => {
    expect([slotLow(0), slotHigh(0)]).toEqual([0, 2]);
    expect([slotLow(10), slotHigh(10)]).toEqual([1024, 2048]);
  });

  it.each([
    // [histogram, q, expected]
    [[], 0.5, undefined],
    [[0, 0, 0], 0.99, undefined],
    [[0, 0, 0, 4], 0.5, 8 + 0.5 * 8], // rank 2 of 4 in [8,16)
    [[0, 0, 0, 4], 1, 16],
    [[0, 0, 0, 4], 0.25, 10],
    [[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 0.5, 2], // rank 1 is the single value in [0,2): its upper edge
    [[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 0.99, 2048], // rank 2 falls in [1024, 2048)
    [[98, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 0.99, 1536],
  ])('quantile %j q=%f', (h, q, want) => {
    expect(log2Quantile(h as number[], q)).toBe(want);
  });

  it('quantiles are monotone in q', () => {
    const h = [3, 0, 5, 7, 0, 1, 9, 2];
    let last = -1;
    for (let q = 0.01; q <= 1; q += 0.01) {
      const v = log2Quantile(h, q)!;
      expect(v).toBeGreaterThanOrEqual(last);
      last = v;
    }
  });

  it('rejects a quantile outside (0, 1]', () => {
    expect(() => log2Quantile([1], 0)).toThrow(RangeError);
    expect(() => log2Quantile([1], 1.5)).toThrow(RangeError);
  });

  it('adds, counts and bounds the maximum', () => {
    expect(histAdd([1, 2], [0, 0, 3])).toEqual([1, 2, 3]);
    expect(histCount([1, 2, 3])).toBe(6);
    expect(log2MaxBound([1, 0, 3, 0])).toBe(8);
    expect(log2MaxBound([0, 0])).toBeUndefined();
  });

  it('takes u32 deltas modulo 2^32 (the kernel side wraps)', () => {
    expect(histDelta32([5, 10], [2, 10])).toEqual([3, 0]);
    expect(histDelta32([3], [2 ** 32 - 2])).toEqual([5]);
    expect(histDelta32([7, 1], undefined)).toEqual([7, 1]);
  });
});
