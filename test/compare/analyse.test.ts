/**
 * compare's statistics on many simulated comparisons (seeded, so the counts
 * are reproducible): identical configurations are flagged at most alpha of
 * the time (and at most once in 20), real regressions are flagged.
 */
import { describe, expect, it } from 'vitest';
import { analyse, runsNeeded } from '../../src/compare/analyse.js';
import { metricInfo } from '../../src/record/metrics.js';
import { REALISTIC, seededRandom, simulateRuns } from '../helpers/simulate.js';

const names = REALISTIC.map((m) => m.name);
// The bootstrap interval only separates "unchanged" from "too noisy"; few resamples keep 1000s of comparisons fast.
const opts = { alpha: 0.05, threshold: 0.1, floor: (m: string) => metricInfo(m).floor, resamples: 200 };

function flagged(seed: number, runs: number, factor?: Record<string, number>): string[] {
  const random = seededRandom(seed);
  const base = simulateRuns(REALISTIC, random, { runs });
  const next = simulateRuns(REALISTIC, random, { runs, factor });
  return analyse(names, base, next, opts)
    .filter((r) => r.verdict === 'regressed')
    .map((r) => r.metric);
}

describe('compare statistics on simulated runs', { timeout: 60_000 }, () => {
  it('flags at most one of 20 comparisons of identical configurations (10 runs each)', () => {
    const hits = Array.from({ length: 20 }, (_, i) => flagged(1000 + i, 10));
    const count = hits.filter((h) => h.length > 0).length;
    console.log(`identical configurations, 20 comparisons of 10 v 10 runs: ${count} flagged`, hits.flat());
    expect(count).toBeLessThanOrEqual(1);
  });

  it('flags at most one of 20 comparisons of identical configurations (6 runs each)', () => {
    const count = Array.from({ length: 20 }, (_, i) => flagged(2000 + i, 6)).filter((h) => h.length > 0).length;
    expect(count).toBeLessThanOrEqual(1);
  });

  it('with 5 runs a side and 15 metrics nothing can be significant: compare says so rather than guess', () => {
    // One family of 2 x 15 claims at alpha 0.05 needs p < 0.0017; 5 v 5 runs cannot go below 1/252.
    expect(Array.from({ length: 20 }, (_, i) => flagged(2500 + i, 5, { wall_ns: 2 })).filter((h) => h.length > 0).length).toBe(0);
  });

  it('keeps the false-alarm rate per comparison at most alpha over 400 comparisons', () => {
    const n = 400;
    const count = Array.from({ length: n }, (_, i) => flagged(5000 + i, 8)).filter((h) => h.length > 0).length;
    console.log(`identical configurations, ${n} comparisons of 8 v 8 runs: ${count} flagged (${((100 * count) / n).toFixed(1)}%)`);
    expect(count / n).toBeLessThanOrEqual(0.05);
  });

  it('a rule on medians alone (ratio beyond 10%) would cry wolf on most of the same comparisons', () => {
    let count = 0;
    for (let i = 0; i < 100; i++) {
      const random = seededRandom(5000 + i);
      const base = simulateRuns(REALISTIC, random, { runs: 8 });
      const next = simulateRuns(REALISTIC, random, { runs: 8 });
      const rows = analyse(names, base, next, opts);
      if (rows.some((r) => r.ratio !== null && r.ratio > 1.1 && r.new.median! - r.base.median! >= metricInfo(r.metric).floor)) count++;
    }
    console.log(`medians alone, 100 identical comparisons: ${count} would be flagged`);
    expect(count).toBeGreaterThan(50);
  });

  it('flags a 2.5x run-queue wait (40% noise) with wall time unchanged, and nothing else', () => {
    const hits = (runs: number): number => {
      let n = 0;
      for (let i = 0; i < 20; i++) {
        const f = flagged(3000 + i, runs, { 'sched.runq_wait_ns': 2.5 });
        if (f.includes('sched.runq_wait_ns')) n++;
        expect(f.filter((m) => m !== 'sched.runq_wait_ns')).toEqual([]);
      }
      return n;
    };
    const h10 = hits(10);
    const h20 = hits(20);
    console.log(`runq wait x2.5 (40% noise): flagged ${h10}/20 with 10 runs, ${h20}/20 with 20 runs`);
    expect(h10).toBeGreaterThanOrEqual(14);
    expect(h20).toBeGreaterThanOrEqual(19);
  });

  it('flags a 20% wall-time regression (2% noise, 5% disturbed runs) at least 19 times in 20 with 10 runs; 5% never', () => {
    const at = (f: number, runs: number): number =>
      Array.from({ length: 20 }, (_, i) => flagged(4000 + i, runs, { wall_ns: f, cpu_ns: f })).filter((h) => h.includes('wall_ns')).length;
    expect(at(1.2, 10)).toBeGreaterThanOrEqual(19);
    expect(at(1.05, 10)).toBe(0);
  });
});

describe('runsNeeded', () => {
  it.each([
    [1, 4], // 1/C(8,4) = 1/70 < 0.05; 1/C(6,3) = 1/20 is not
    [24, 6], // 1/C(12,6) = 1/924 < 0.05/24; 1/C(10,5) = 1/252 is not
    [100, 7],
  ])('a family of %i claims needs %i runs a side', (family, n) => expect(runsNeeded(family, 0.05)).toBe(n));
});
