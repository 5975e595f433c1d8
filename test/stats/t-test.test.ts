import { describe, expect, it } from 'vitest';
import { trimmedTest, trimmedCount, pooledWinsorizedSd } from '../../src/stats/t-test.js';

describe('trimmedTest', () => {
  it("with trim 0 is Welch's test (R: t.test(y, x, alternative = 'greater'))", () => {
    const r = trimmedTest([1, 2, 3, 4, 5], [3, 4, 5, 6, 7], 0);
    expect(r.diff).toBe(2);
    expect(r.t).toBeCloseTo(2, 12);
    expect(r.df).toBeCloseTo(8, 12);
    expect(r.pGreater).toBeCloseTo(0.04025812, 7);
    expect(r.pLess).toBeCloseTo(1 - 0.04025812, 7);
  });

  it("Yuen's test trims the lowest and highest of 5 and uses winsorized variances (R: WRS2::yuen gives t 1.7321, df 4)", () => {
    const r = trimmedTest([1, 2, 3, 4, 5], [3, 4, 5, 6, 7]);
    expect(r.t).toBeCloseTo(Math.sqrt(3), 10);
    expect(r.df).toBeCloseTo(4, 10);
    expect(r.pGreater).toBeCloseTo(0.07915121, 6);
  });

  it('one wild run of five does not move it; it swamps the untrimmed test', () => {
    const base = [100, 101, 99, 100.5, 99.5];
    const clean = [200, 201, 199, 200.5, 199.5];
    const wild = [200, 201, 199, 200.5, 900];
    const log = (xs: number[]): number[] => xs.map(Math.log);
    expect(trimmedTest(log(base), log(wild)).pGreater).toBeLessThan(1e-3);
    expect(trimmedTest(log(base), log(clean)).pGreater).toBeLessThan(1e-3);
    expect(trimmedTest(log(base), log(wild), 0).pGreater).toBeGreaterThan(0.01);
  });

  it('constant samples: an exact difference, or no evidence at all', () => {
    expect(trimmedTest([5, 5, 5], [7, 7, 7])).toMatchObject({ pGreater: 0, pLess: 1 });
    expect(trimmedTest([5, 5, 5], [5, 5, 5])).toMatchObject({ pGreater: 1, pLess: 1 });
  });

  it('needs two values a side', () => {
    expect(() => trimmedTest([1], [1, 2])).toThrow(RangeError);
  });

  it.each([
    [3, 0],
    [5, 1],
    [10, 2],
    [20, 4],
  ])('trims %i values to %i from each end', (n, g) => expect(trimmedCount(n)).toBe(g));
});

describe('pooledWinsorizedSd', () => {
  it('is the pooled sd when nothing is trimmed (fewer than 5 values a side)', () => {
    // Each side: values -1, 0, 1 around its mean: sum of squares 2 a side, df 4 -> sd 1.
    expect(pooledWinsorizedSd([-1, 0, 1], [9, 10, 11])).toBeCloseTo(1, 12);
  });
  it('a shift between the sides does not widen it', () => {
    const x = [1, 1.2, 0.9, 1.1, 0.95];
    expect(
      pooledWinsorizedSd(
        x,
        x.map((v) => v + 5),
      ),
    ).toBeCloseTo(pooledWinsorizedSd(x, x), 12);
  });
  it('one wild value a side of five is winsorized', () => {
    const x = [1, 1.1, 0.9, 1.05, 0.95];
    expect(pooledWinsorizedSd([...x.slice(0, 4), 50], x)).toBeLessThan(0.2);
  });
});
