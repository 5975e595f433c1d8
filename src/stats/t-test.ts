/**
 * Yuen's trimmed-means t-test (Welch's test on 20%-trimmed means with
 * winsorized variances), one-sided in both directions. compare runs it on
 * log-scale values, where a ratio of medians is a difference. Unlike a rank
 * test, whose smallest p-value with 5 runs a side is 1/252, it can show a
 * large, clean change as significant among many metrics at the run counts
 * CI affords; unlike Welch's plain t-test, one disturbed run per side (5
 * runs: the lowest and the highest are trimmed) does not swamp it.
 * With trim 0 it is Welch's test.
 */
import jstat from 'jstat';

const { studentt } = jstat.jStat;

/** Share trimmed from each end by default (Wilcox's recommendation for small samples). */
export const DEFAULT_TRIM = 0.2;

export interface TrimmedTest {
  /** trimmed mean(y) - trimmed mean(x). */
  diff: number;
  /** Standard error of diff (0 when both samples are constant after winsorizing). */
  se: number;
  t: number;
  /** Welch-Satterthwaite degrees of freedom on the trimmed sizes. */
  df: number;
  /** P(a difference this large or larger) if y is not shifted up against x. */
  pGreater: number;
  pLess: number;
}

/** Values trimmed from each end of n values. */
export function trimmedCount(n: number, trim = DEFAULT_TRIM): number {
  return Math.floor(trim * n);
}

/** Trimmed mean, and the squared standard error term (n-1) s_w^2 / (h (h-1)), of one sample. */
function side(values: readonly number[], trim: number): { mean: number; d: number; h: number; sw2: number } {
  const xs = [...values].sort((a, b) => a - b);
  const n = xs.length;
  const g = trimmedCount(n, trim);
  const h = n - 2 * g;
  let sum = 0;
  for (let i = g; i < n - g; i++) sum += xs[i]!;
  const mean = sum / h;
  const w = xs.map((_, i) => xs[Math.min(Math.max(i, g), n - g - 1)]!);
  const wMean = w.reduce((s, v) => s + v, 0) / n;
  const sw2 = w.reduce((s, v) => s + (v - wMean) ** 2, 0) / (n - 1);
  return { mean, d: ((n - 1) * sw2) / (h * (h - 1)), h, sw2 };
}

/** Test whether y is shifted against x. Each side needs 2 values or more. */
export function trimmedTest(x: readonly number[], y: readonly number[], trim = DEFAULT_TRIM): TrimmedTest {
  if (x.length < 2 || y.length < 2) throw new RangeError(`the trimmed t-test needs two values a side, got ${x.length} and ${y.length}`);
  const a = side(x, trim);
  const b = side(y, trim);
  const diff = b.mean - a.mean;
  const se = Math.sqrt(a.d + b.d);
  if (se === 0) {
    // Both sides constant: the difference is exact (0 -> no evidence either way).
    const df = a.h + b.h - 2;
    if (diff === 0) return { diff, se, t: 0, df, pGreater: 1, pLess: 1 };
    return { diff, se, t: diff > 0 ? Infinity : -Infinity, df, pGreater: diff > 0 ? 0 : 1, pLess: diff < 0 ? 0 : 1 };
  }
  const df = (a.d + b.d) ** 2 / ((a.d * a.d) / (a.h - 1) + (b.d * b.d) / (b.h - 1));
  const t = diff / se;
  const below = studentt.cdf(t, df);
  return { diff, se, t, df, pGreater: 1 - below, pLess: below };
}

/**
 * The spread of two samples' values around their own trimmed means: the
 * pooled winsorized sd (the spread the trimmed t-test sees; a real shift
 * between the samples does not widen it). 0 with fewer than 3 values in all.
 */
export function pooledWinsorizedSd(x: readonly number[], y: readonly number[], trim = DEFAULT_TRIM): number {
  const ss = (values: readonly number[]): number => (values.length < 2 ? 0 : (values.length - 1) * side(values, trim).sw2);
  const df = Math.max(0, x.length - 1) + Math.max(0, y.length - 1);
  return df > 0 ? Math.sqrt((ss(x) + ss(y)) / df) : 0;
}

/** The t quantile at probability p with df degrees of freedom. */
export function tQuantile(p: number, df: number): number {
  return studentt.inv(p, df);
}
