import { describe, expect, it } from 'vitest';
import { adjustedTest } from '../../src/stats/ancova.js';

describe('adjustedTest', () => {
  const x = [1.0, 1.3, 0.8, 1.1, 0.9];
  const ux = [10, 20, 5, 15, 8];
  const y = [1.5, 1.9, 1.2, 1.6, 1.45];
  const uy = [12, 25, 4, 16, 11];

  it('least squares with a common slope (numpy lstsq of v ~ 1 + group + u, Student t with n - 3 df)', () => {
    const r = adjustedTest(x, ux, y, uy)!;
    expect(r.diff).toBeCloseTo(0.44472516, 7);
    expect(r.slope).toBeCloseTo(0.03263742, 7);
    expect(r.se).toBeCloseTo(0.013104478, 7);
    expect(r.df).toBe(7);
    expect(r.t).toBeCloseTo(33.93688, 3);
    expect(r.pGreater).toBeLessThan(1e-8);
    expect(r.pLess).toBeGreaterThan(0.99);
  });

  it('noise the covariate explains is taken out: a shift of 0.2 under load swings of 1.5 is clear', () => {
    const load = [0, 40, 10, 80, 20];
    const base = load.map((u, i) => 0.02 * u + [0, 0.01, -0.01, 0.005, -0.005][i]!);
    const next = load.map((u, i) => 0.2 + 0.02 * u + [0.005, -0.01, 0, 0.01, -0.005][i]!);
    const shuffled = [load[3]!, load[0]!, load[4]!, load[1]!, load[2]!];
    const nextShuffled = shuffled.map((u, i) => 0.2 + 0.02 * u + [0.005, -0.01, 0, 0.01, -0.005][i]!);
    expect(adjustedTest(base, load, nextShuffled, shuffled)!.pGreater).toBeLessThan(1e-4);
    expect(adjustedTest(base, load, next, load)!.diff).toBeCloseTo(0.2, 2);
  });

  it('no evidence either way when the sides are the same', () => {
    const r = adjustedTest(x, ux, x, ux)!;
    expect(r.diff).toBeCloseTo(0, 12);
    expect(r.pGreater).toBeCloseTo(0.5, 6);
  });

  it('cannot be fitted: a covariate that does not vary within the sides, or too few runs', () => {
    expect(adjustedTest(x, [5, 5, 5, 5, 5], y, [9, 9, 9, 9, 9])).toBeNull();
    expect(adjustedTest([1], [1], [2, 3], [1, 2])).toBeNull();
    expect(() => adjustedTest(x, [1], y, uy)).toThrow(RangeError);
  });
});
