/**
 * Per-metric statistics of BASE against NEW: medians and their ratio, a
 * bootstrap confidence interval of that ratio, and two one-sided
 * Mann-Whitney U tests of a change BEYOND the threshold: NEW / (1 + t)
 * against BASE (regressed by more than t), and NEW * (1 + t) against BASE
 * (improved by more than t). A noisy metric whose median wanders past the
 * threshold by chance is therefore not enough: the data must show the
 * threshold exceeded. The p-values are adjusted over every gated metric and
 * both directions (Tarone's family, then Holm), so alpha bounds the chance
 * that a comparison of identical configurations claims any change at all.
 */
import { median } from 'simple-statistics';
import { bootstrapMedianChange, medianRatio, type MedianChangeInterval } from '../stats/bootstrap.js';
import { holmAdjust, taroneEligible } from '../stats/multiple.js';
import { rankSumTest, type RankSumTest } from '../stats/rank-sum.js';
import { seedOf } from '../stats/rng.js';
import { decide, type Verdict } from './verdict.js';

export interface Sample {
  n: number;
  median: number | null;
  values: number[];
}

export interface MetricComparison {
  metric: string;
  base: Sample;
  new: Sample;
  /** NEW median / BASE median; Infinity when BASE is 0 and NEW is not; null without values. */
  ratio: number | null;
  ci: MedianChangeInterval | null;
  test: {
    name: 'mann-whitney-u';
    exact: boolean;
    /** U of NEW against BASE, unscaled. */
    u: number;
    /** Two-sided p-value of any change (no threshold, not adjusted): for information. */
    p_change: number;
    /** One-sided p-values of a change beyond the threshold, before adjustment. */
    p_regressed: number;
    p_improved: number;
    /** The smallest p_regressed these pooled values allow (1: every value tied). */
    min_p_regressed: number;
  } | null;
  /** After Tarone + Holm over the gated metrics; 1 for a metric outside the family. */
  p_regressed_adjusted: number;
  p_improved_adjusted: number;
  /** False when its values could never reach significance (e.g. equal in every run): it does not dilute the others. */
  in_family: boolean;
  verdict: Verdict;
  reason: string;
}

export interface AnalyseOptions {
  alpha: number;
  threshold: number;
  floor: (metric: string) => number;
  /** Bootstrap resamples (default 4000). */
  resamples?: number;
}

function sample(values: ReadonlyArray<number | null | undefined>): Sample {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return { n: v.length, median: v.length ? median(v) : null, values: v };
}

export function analyse(
  metrics: readonly string[],
  base: ReadonlyArray<Record<string, number | null>>,
  next: ReadonlyArray<Record<string, number | null>>,
  opts: AnalyseOptions,
): MetricComparison[] {
  const scale = 1 + opts.threshold;
  const rows = metrics.map((metric) => {
    const b = sample(base.map((r) => r[metric]));
    const n = sample(next.map((r) => r[metric]));
    const ok = b.n > 0 && n.n > 0;
    const plain: RankSumTest | null = ok ? rankSumTest(b.values, n.values) : null;
    const up: RankSumTest | null = ok ? rankSumTest(b.values, n.values.map((v) => v / scale)) : null;
    const down: RankSumTest | null = ok ? rankSumTest(b.values, n.values.map((v) => v * scale)) : null;
    return { metric, b, n, plain, up, down };
  });
  // One family for every claim a report can make, "regressed" and "improved" for each metric: alpha
  // bounds the chance that a comparison of identical configurations claims any change at all.
  const m = rows.length;
  const family = taroneEligible([...rows.map((r) => r.up?.minPGreater ?? 1), ...rows.map((r) => r.down?.minPLess ?? 1)], opts.alpha);
  const adjusted = holmAdjust([...rows.map((r) => r.up?.pGreater ?? 1), ...rows.map((r) => r.down?.pLess ?? 1)], family);
  const adjUp = adjusted.slice(0, m);
  const adjDown = adjusted.slice(m);
  const famUp = family.slice(0, m);
  const level = 1 - opts.alpha;

  return rows.map(({ metric, b, n, plain, up, down }, i): MetricComparison => {
    const common = { metric, base: b, new: n, p_regressed_adjusted: adjUp[i]!, p_improved_adjusted: adjDown[i]!, in_family: famUp[i]! };
    if (!plain || !up || !down || b.median === null || n.median === null) {
      return {
        ...common,
        ratio: null,
        ci: null,
        test: null,
        // Nothing measured on either side (no I/O, so no I/O latency): nothing changed. On one side only: no verdict.
        verdict: b.n === 0 && n.n === 0 ? 'unchanged' : 'too-noisy',
        reason: b.n === 0 && n.n === 0 ? 'nothing measured on either side' : `no values in ${b.n === 0 ? 'BASE' : 'NEW'}`,
      };
    }
    const ratio = medianRatio(b.median, n.median);
    const ci = bootstrapMedianChange(b.values, n.values, { level, seed: seedOf(metric), resamples: opts.resamples });
    const { verdict, reason } = decide({
      baseMedian: b.median,
      newMedian: n.median,
      ratio,
      ci,
      pRegressed: adjUp[i]!,
      pImproved: adjDown[i]!,
      alpha: opts.alpha,
      threshold: opts.threshold,
      floor: opts.floor(metric),
    });
    return {
      ...common,
      ratio,
      ci,
      test: {
        name: 'mann-whitney-u',
        exact: plain.exact,
        u: plain.u,
        p_change: plain.pTwoSided,
        p_regressed: up.pGreater,
        p_improved: down.pLess,
        min_p_regressed: up.minPGreater,
      },
      verdict,
      reason,
    };
  });
}

/** Runs per side needed before a perfectly separated change can be significant in a family of `family` claims. */
export function runsNeeded(family: number, alpha: number): number {
  let n = 2;
  for (let c = 6; c * alpha <= Math.max(1, family) && n < 100; c = (c * (2 * n + 1) * (2 * n + 2)) / ((n + 1) * (n + 1)), n++);
  return n;
}
