import { describe, expect, it } from 'vitest';
import { bhAdjust, holmAdjust, taroneEligible } from '../../src/stats/multiple.js';

describe('holmAdjust', () => {
  it.each([
    { p: [0.01, 0.04, 0.03, 0.005], want: [0.03, 0.06, 0.06, 0.02] },
    { p: [0.5], want: [0.5] },
    { p: [0.2, 0.6, 0.9], want: [0.6, 1, 1] },
    { p: [], want: [] },
  ])('$p -> $want', ({ p, want }) => {
    const got = holmAdjust(p);
    expect(got).toHaveLength(want.length);
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 12));
  });

  it('leaves tests outside the family at 1 and does not count them', () => {
    expect(holmAdjust([0.01, 0.02, 0.5], [true, true, false])).toEqual([0.02, 0.02, 1]);
  });
});

describe('taroneEligible', () => {
  it('keeps only tests that can reach alpha / K', () => {
    // K = 1: two tests reach 0.05 (too many); K = 2: the same two reach 0.025 -> family of 2.
    expect(taroneEligible([0.001, 0.5, 1, 0.01], 0.05)).toEqual([true, false, false, true]);
  });
  it('drops every test when none can be significant (e.g. all values tied)', () => {
    expect(taroneEligible([1, 1, 0.2], 0.05)).toEqual([false, false, false]);
  });
  it('keeps all when all can reach alpha / m', () => {
    expect(taroneEligible([1e-4, 1e-4, 1e-4], 0.05)).toEqual([true, true, true]);
  });
});

describe('bhAdjust', () => {
  it.each([
    // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), 'BH') = 0.02 0.04 0.04 0.02
    { p: [0.01, 0.04, 0.03, 0.005], want: [0.02, 0.04, 0.04, 0.02] },
    // R: p.adjust(c(0.2, 0.6, 0.9), 'BH') = 0.6 0.9 0.9
    { p: [0.2, 0.6, 0.9], want: [0.6, 0.9, 0.9] },
    { p: [0.5], want: [0.5] },
    { p: [], want: [] },
  ])('$p -> $want', ({ p, want }) => {
    const got = bhAdjust(p);
    expect(got).toHaveLength(want.length);
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 12));
  });

  it('leaves tests outside the family at 1 and does not count them', () => {
    expect(bhAdjust([0.01, 0.02, 0.5], [true, true, false])).toEqual([0.02, 0.02, 1]);
  });

  it('is less strict than Holm when several tests are real', () => {
    const p = [0.02, 0.03, 0.04, 0.045];
    expect(bhAdjust(p).every((x) => x < 0.05)).toBe(true);
    expect(holmAdjust(p).every((x) => x < 0.05)).toBe(false);
  });
});
