/**
 * Mann-Whitney U (Wilcoxon rank-sum) test of two independent samples, with
 * an exact p-value: the permutation distribution of the rank sum, counted by
 * dynamic programming over mid-ranks, so ties (runs with identical counts,
 * zeros) are handled exactly. Large samples use the normal approximation with
 * the tie correction and a continuity correction.
 */
import { wilcoxonRankSum } from 'simple-statistics';

export interface RankSumTest {
  /** U of the second sample: pairs (x, y) with y > x, ties counting 1/2. */
  u: number;
  /** P(rank sum of y >= observed) under exchangeability: y tends to be larger. */
  pGreater: number;
  /** P(rank sum of y <= observed): y tends to be smaller. */
  pLess: number;
  pTwoSided: number;
  /** The smallest pGreater / pLess these pooled values could give at all (1 when every value is tied). */
  minPGreater: number;
  minPLess: number;
  exact: boolean;
}

/** Pooled sizes up to this use the exact distribution (C(60, 30) splits, counted in well under a second). */
const EXACT_MAX_N = 60;

/** Mid-ranks (1-based) of the pooled values, doubled so they are integers. */
function doubledRanks(pooled: readonly number[]): number[] {
  const order = pooled.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const out = new Array<number>(pooled.length);
  for (let k = 0; k < order.length;) {
    let j = k;
    while (j + 1 < order.length && order[j + 1]!.v === order[k]!.v) j++;
    // Ranks k+1 .. j+1 share their mean; doubled: (k+1 + j+1).
    for (let t = k; t <= j; t++) out[order[t]!.i] = k + j + 2;
    k = j + 1;
  }
  return out;
}

/**
 * Number of size-n subsets of `ranks` with each doubled rank sum (index =
 * sum). Ranks are added in ascending order, so after i of them a k-subset's
 * sum lies between the k smallest and the k largest seen: only that band is
 * updated.
 */
function subsetSumCounts(ranks: readonly number[], n: number): Float64Array {
  const sorted = [...ranks].sort((a, b) => a - b);
  const top = sorted.slice(sorted.length - n).reduce((s, r) => s + r, 0);
  const dp = Array.from({ length: n + 1 }, () => new Float64Array(top + 1));
  dp[0]![0] = 1;
  const prefix = [0];
  for (const r of sorted) prefix.push(prefix[prefix.length - 1]! + r);
  sorted.forEach((r, i) => {
    for (let k = Math.min(i + 1, n); k >= 1; k--) {
      const cur = dp[k]!;
      const prev = dp[k - 1]!;
      // k items among the first i+1 (this one included): sums from the k smallest to the k largest.
      const lo = Math.max(r, prefix[k]!);
      const hi = Math.min(top, prefix[i + 1]! - prefix[i + 1 - k]!);
      for (let s = hi; s >= lo; s--) {
        const c = prev[s - r]!;
        if (c) cur[s] = cur[s]! + c;
      }
    }
  });
  return dp[n]!;
}

function normalCdf(z: number): number {
  // Abramowitz-Stegun 7.1.26 through erf; absolute error below 1.5e-7.
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Test whether y (e.g. the new runs) is shifted against x (the base runs). */
export function rankSumTest(x: readonly number[], y: readonly number[], opts: { method?: 'auto' | 'exact' | 'normal' } = {}): RankSumTest {
  const m = x.length;
  const n = y.length;
  if (m === 0 || n === 0) throw new RangeError(`rank-sum test needs two non-empty samples, got ${m} and ${n} values`);
  const pooled = [...x, ...y];
  const N = m + n;
  const ranks = doubledRanks(pooled);
  // The observed rank sum of y (mid-ranks for ties), doubled: an integer.
  const w2 = Math.round(2 * wilcoxonRankSum(y, x));
  const u = w2 / 2 - (n * (n + 1)) / 2;

  const method = opts.method ?? 'auto';
  if (method === 'exact' || (method === 'auto' && N <= EXACT_MAX_N)) {
    const counts = subsetSumCounts(ranks, n);
    let total = 0;
    let ge = 0;
    let le = 0;
    let lowest = -1;
    let highest = -1;
    for (let s = 0; s < counts.length; s++) {
      const c = counts[s]!;
      if (!c) continue;
      total += c;
      if (s >= w2) ge += c;
      if (s <= w2) le += c;
      if (lowest < 0) lowest = s;
      highest = s;
    }
    const pGreater = Math.min(1, ge / total);
    const pLess = Math.min(1, le / total);
    const tied = lowest === highest;
    return {
      u,
      pGreater,
      pLess,
      pTwoSided: Math.min(1, 2 * Math.min(pGreater, pLess)),
      minPGreater: tied ? 1 : counts[highest]! / total,
      minPLess: tied ? 1 : counts[lowest]! / total,
      exact: true,
    };
  }

  // Normal approximation, in units of (undoubled) ranks.
  const w = w2 / 2;
  const mean = (n * (N + 1)) / 2;
  const tieSum = tieTerm(pooled);
  const variance = ((m * n) / 12) * (N + 1 - tieSum / (N * (N - 1)));
  if (variance <= 0) return { u, pGreater: 1, pLess: 1, pTwoSided: 1, minPGreater: 1, minPLess: 1, exact: false };
  const sd = Math.sqrt(variance);
  const pGreater = 1 - normalCdf((w - mean - 0.5) / sd);
  const pLess = normalCdf((w - mean + 0.5) / sd);
  const sorted = ranks.slice().sort((a, b) => a - b);
  const highest = sorted.slice(N - n).reduce((s, r) => s + r, 0) / 2;
  const lowest = sorted.slice(0, n).reduce((s, r) => s + r, 0) / 2;
  return {
    u,
    pGreater,
    pLess,
    pTwoSided: Math.min(1, 2 * Math.min(pGreater, pLess)),
    minPGreater: 1 - normalCdf((highest - mean - 0.5) / sd),
    minPLess: normalCdf((lowest - mean + 0.5) / sd),
    exact: false,
  };
}

/** Σ (t³ - t) over groups of tied values. */
function tieTerm(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let s = 0;
  for (const t of counts.values()) s += t * t * t - t;
  return s;
}
