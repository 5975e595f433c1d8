/**
 * Bootstrap confidence intervals for the change between two samples'
 * medians: resample each side with replacement, take the ratio (and the
 * difference) of the resampled medians, read the percentiles. Seeded, so the
 * same inputs always give the same interval.
 */
import { seededRandom } from './rng.js';

export interface MedianChangeInterval {
  level: number;
  ratio: { low: number; high: number };
  diff: { low: number; high: number };
}

/** new / base of two medians: 1 when both are 0, Infinity when only the base is 0. */
export function medianRatio(baseMedian: number, newMedian: number): number {
  if (baseMedian === 0) return newMedian === 0 ? 1 : newMedian > 0 ? Infinity : -Infinity;
  return newMedian / baseMedian;
}

/**
 * The median of a resample drawn into `buf` (a typed array sorts numerically
 * in place, without a comparator: this loop runs thousands of times per metric).
 */
function resampledMedian(xs: readonly number[], random: () => number, buf: Float64Array): number {
  for (let i = 0; i < xs.length; i++) buf[i] = xs[Math.floor(random() * xs.length)]!;
  buf.sort();
  const h = buf.length >> 1;
  return buf.length % 2 ? buf[h]! : (buf[h - 1]! + buf[h]!) / 2;
}

/** The percentile at q of sorted values (linear between ranks). */
function percentile(sorted: readonly number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  if (lo === hi || a === b) return a;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return q < 0.5 ? a : b;
  return a + (pos - lo) * (b - a);
}

export function bootstrapMedianChange(
  base: readonly number[],
  next: readonly number[],
  opts: { level: number; resamples?: number; seed: number },
): MedianChangeInterval {
  if (base.length === 0 || next.length === 0) throw new RangeError('bootstrap needs two non-empty samples');
  const random = seededRandom(opts.seed);
  const k = opts.resamples ?? 4000;
  const ratios: number[] = [];
  const diffs: number[] = [];
  const bx = new Float64Array(base.length);
  const ny = new Float64Array(next.length);
  for (let i = 0; i < k; i++) {
    const mb = resampledMedian(base, random, bx);
    const mn = resampledMedian(next, random, ny);
    ratios.push(medianRatio(mb, mn));
    diffs.push(mn - mb);
  }
  ratios.sort((a, b) => a - b);
  diffs.sort((a, b) => a - b);
  const tail = (1 - opts.level) / 2;
  return {
    level: opts.level,
    ratio: { low: percentile(ratios, tail), high: percentile(ratios, 1 - tail) },
    diff: { low: percentile(diffs, tail), high: percentile(diffs, 1 - tail) },
  };
}
