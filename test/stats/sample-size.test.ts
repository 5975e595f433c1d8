import { describe, expect, it } from 'vitest';
import { minRankP, runsPerSide } from '../../src/stats/sample-size.js';

describe('minRankP', () => {
  it.each([
    [3, 1 / 20],
    [4, 1 / 70],
    [5, 1 / 252],
    [6, 1 / 924],
  ])('%i runs a side: 1/C(2n, n)', (n, p) => expect(minRankP(n)).toBeCloseTo(p, 12));
});

describe('runsPerSide', () => {
  const at = { effect: 0.5, se: 0.3, runs: 5, level: 0.05 / 10, separated: false };
  it('grows as the effect shrinks and as the spread grows', () => {
    const n = runsPerSide(at)!;
    expect(n).toBeGreaterThan(5);
    expect(runsPerSide({ ...at, effect: 0.25 })!).toBeGreaterThan(n);
    expect(runsPerSide({ ...at, se: 0.6 })!).toBeGreaterThan(n);
    expect(runsPerSide({ ...at, effect: 2 })!).toBeLessThan(n);
  });
  it('always more runs than these (they did not do)', () => {
    expect(runsPerSide({ ...at, effect: 10 })).toBe(6);
  });
  it('separated runs: the rank test alone decides once 1/C(2n, n) reaches the level', () => {
    // level 0.0025: 1/C(12,6) = 1/924 is the first below it.
    expect(runsPerSide({ ...at, runs: 3, effect: 0.01, se: 10, level: 0.0025, separated: true })).toBe(6);
  });
  it('no change beyond the threshold: no count would do', () => {
    expect(runsPerSide({ ...at, effect: -0.1 })).toBeNull();
    expect(runsPerSide({ ...at, effect: 1e-6, max: 50 })).toBeNull();
  });
});
