/**
 * The verdict on one metric, from its medians, the confidence interval of
 * their ratio and the multiplicity-adjusted p-values. Every metric is "lower
 * is better". A change is beyond the threshold when the ratio of medians is
 * above 1 + t (or below 1 / (1 + t)) and the medians differ by at least the
 * metric's floor.
 */
export type Verdict = 'regressed' | 'improved' | 'unchanged' | 'too-noisy';

export interface VerdictInput {
  baseMedian: number;
  newMedian: number;
  /** newMedian / baseMedian (Infinity when only the base is 0). */
  ratio: number;
  ci: { level: number; ratio: { low: number; high: number }; diff: { low: number; high: number } };
  /** Adjusted one-sided p-values of a change beyond the threshold: NEW worse / NEW better. */
  pRegressed: number;
  pImproved: number;
  alpha: number;
  /** 0.1 for 10%. */
  threshold: number;
  floor: number;
}

const pct = (r: number): string => (Number.isFinite(r) ? `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%` : 'from 0');
const p = (x: number): string => (x < 0.001 ? x.toExponential(1) : x.toFixed(3));

export function decide(v: VerdictInput): { verdict: Verdict; reason: string } {
  const up = 1 + v.threshold;
  const down = 1 / up;
  const beyondUp = v.ratio > up && v.newMedian - v.baseMedian >= v.floor;
  const beyondDown = v.ratio < down && v.baseMedian - v.newMedian >= v.floor;
  const level = `${Math.round(v.ci.level * 100)}%`;
  if (beyondUp && v.pRegressed < v.alpha) {
    return { verdict: 'regressed', reason: `${pct(v.ratio)}, significantly beyond +${(v.threshold * 100).toFixed(0)}% (p=${p(v.pRegressed)} adjusted, < ${v.alpha})` };
  }
  if (beyondDown && v.pImproved < v.alpha) {
    return { verdict: 'improved', reason: `${pct(v.ratio)}, significantly beyond -${((1 - down) * 100).toFixed(1)}% (p=${p(v.pImproved)} adjusted, < ${v.alpha})` };
  }
  const ratioInside = v.ci.ratio.low >= down && v.ci.ratio.high <= up;
  const diffInside = v.ci.diff.low > -v.floor && v.ci.diff.high < v.floor;
  if (ratioInside || diffInside) {
    return {
      verdict: 'unchanged',
      reason: ratioInside ? `${level} CI of the ratio inside ±${(v.threshold * 100).toFixed(0)}%` : `the change is below the metric's floor (${v.floor})`,
    };
  }
  if (beyondUp || beyondDown) {
    return {
      verdict: 'too-noisy',
      reason: `${pct(v.ratio)}, but not significantly beyond ±${(v.threshold * 100).toFixed(0)}% (p=${p(beyondUp ? v.pRegressed : v.pImproved)} adjusted); more runs would tell`,
    };
  }
  return { verdict: 'too-noisy', reason: `${level} CI of the ratio reaches past ±${(v.threshold * 100).toFixed(0)}%; more runs would tell` };
}
