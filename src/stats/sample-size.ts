/**
 * How many runs a side would make an observed change significant: the
 * plug-in estimate that keeps the observed effect and spread (the standard
 * error shrinking as 1/sqrt(n)) and grows n until a one-sided trimmed t-test
 * at `level` has the requested power, or, when every NEW run is beyond
 * every BASE run, until the rank test of that separation reaches `level`
 * (its smallest one-sided p-value with n runs a side is 1 / C(2n, n)).
 */
import { tQuantile, trimmedCount } from './t-test.js';

export interface SampleSizeInput {
  /** The effect to detect, beyond the threshold, on the test's scale (> 0). */
  effect: number;
  /** The test's standard error with `runs` runs a side. */
  se: number;
  runs: number;
  /** Per-test significance level the effect must reach (alpha divided by the family, say). */
  level: number;
  /** The runs are separated (every NEW run beyond every BASE run), as they would stay. */
  separated: boolean;
  /** Probability of reaching significance (default 0.8). */
  power?: number;
  max?: number;
}

/** 1 / C(2n, n): the smallest one-sided rank-sum p-value with n runs a side and no ties. */
export function minRankP(n: number): number {
  let c = 1;
  for (let k = 1; k <= n; k++) c = (c * (n + k)) / k;
  return 1 / c;
}

/** Runs per side (more than `runs`: these did not do), or null when even `max` would not do (no effect beyond the threshold). */
export function runsPerSide(v: SampleSizeInput): number | null {
  if (!(v.effect > 0) || !(v.runs > 0)) return null;
  const power = v.power ?? 0.8;
  const max = v.max ?? 1000;
  for (let n = Math.max(2, v.runs + 1); n <= max; n++) {
    if (v.separated && minRankP(n) <= v.level) return n;
    if (v.se === 0) continue;
    const h = n - 2 * trimmedCount(n);
    const df = Math.max(1, 2 * (h - 1));
    const se = v.se * Math.sqrt(v.runs / n);
    if (v.effect / se >= tQuantile(1 - v.level, df) + tQuantile(power, df)) return n;
  }
  return null;
}
