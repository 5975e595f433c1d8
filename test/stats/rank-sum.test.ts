import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rankSumTest } from '../../src/stats/rank-sum.js';
import { seededRandom, normalDraw } from '../../src/stats/rng.js';

interface Case {
  x: number[];
  y: number[];
  u: number;
  pGreater: number;
  pLess: number;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/stats/rank-sum.json', import.meta.url), 'utf8')) as { cases: Case[] };

describe('rankSumTest (Mann-Whitney U)', () => {
  it.each(fixture.cases.map((c, i) => [i, c] as const))('case %i agrees with brute-force enumeration', (_i, c) => {
    const r = rankSumTest(c.x, c.y);
    expect(r.exact).toBe(true);
    expect(r.u).toBeCloseTo(c.u, 9);
    expect(r.pGreater).toBeCloseTo(c.pGreater, 12);
    expect(r.pLess).toBeCloseTo(c.pLess, 12);
    expect(r.pTwoSided).toBeCloseTo(Math.min(1, 2 * Math.min(c.pGreater, c.pLess)), 12);
  });

  it('gives the smallest attainable p-values: 1/C(10,5) when untied, 1 when every value ties', () => {
    const r = rankSumTest([1, 2, 3, 4, 5], [1.5, 2.5, 3.5, 4.5, 5.5]);
    expect(r.minPGreater).toBeCloseTo(1 / 252, 12);
    expect(r.minPLess).toBeCloseTo(1 / 252, 12);
    const tied = rankSumTest([0, 0, 0], [0, 0, 0, 0]);
    expect(tied.minPGreater).toBe(1);
    expect(tied.pGreater).toBe(1);
    expect(tied.pLess).toBe(1);
  });

  it('normal approximation agrees with the exact distribution on a 30 + 30 sample', () => {
    const random = seededRandom(11);
    const x = Array.from({ length: 30 }, () => Math.round(100 + 10 * normalDraw(random)));
    const y = Array.from({ length: 30 }, () => Math.round(104 + 10 * normalDraw(random)));
    const exact = rankSumTest(x, y, { method: 'exact' });
    const approx = rankSumTest(x, y, { method: 'normal' });
    expect(exact.exact).toBe(true);
    expect(approx.exact).toBe(false);
    expect(Math.abs(exact.pGreater - approx.pGreater)).toBeLessThan(0.005);
    expect(Math.abs(exact.pLess - approx.pLess)).toBeLessThan(0.005);
  });

  it('uses the normal approximation above 60 pooled values, and still separates shifted samples', () => {
    const random = seededRandom(5);
    const x = Array.from({ length: 40 }, () => 100 + normalDraw(random));
    const y = Array.from({ length: 40 }, () => 103 + normalDraw(random));
    const r = rankSumTest(x, y);
    expect(r.exact).toBe(false);
    expect(r.pGreater).toBeLessThan(1e-6);
    expect(r.pLess).toBeGreaterThan(0.99);
  });

  it('refuses an empty sample', () => {
    expect(() => rankSumTest([], [1])).toThrow(/non-empty/);
  });
});
