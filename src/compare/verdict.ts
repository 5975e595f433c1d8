/**
 * The verdict on one metric. Every metric is "lower is better". A change is
 * beyond the threshold when the ratio of medians is above 1 + t (or below
 * 1 / (1 + t)) and the medians differ by at least the metric's floor; or,
 * when the load of each run is known, when the change at equal load is (the
 * medians of a metric the load stretches differ as much by the load of the
 * runs each side happened to meet as by the change). Then:
 *
 * - regressed / improved: the log-scale trimmed t-test of a change beyond
 *   the threshold is significant after the Benjamini-Hochberg adjustment
 *   over the gated metrics;
 * - needs-more-runs: the change is consistent, yet not significant with
 *   these counts: every NEW run is beyond the threshold from every BASE run,
 *   or the interval of the ratio at the family's level (1 - alpha / the
 *   gated metrics: as strict as the tests) lies wholly beyond the threshold;
 *   the reason says how many runs a side would be;
 * - unchanged: the interval of the ratio lies inside the threshold, or the
 *   interval of the difference inside the floor;
 * - too-noisy: the interval is wide and straddles the threshold.
 */
export type Verdict = 'regressed' | 'improved' | 'unchanged' | 'too-noisy' | 'needs-more-runs';

/** Which way NEW moved, for verdicts that have a direction. */
export type Direction = 'worse' | 'better';

export interface VerdictInput {
  baseMedian: number;
  newMedian: number;
  /** newMedian / baseMedian (Infinity when only the base is 0). */
  ratio: number;
  ci: { level: number; ratio: { low: number; high: number }; diff: { low: number; high: number } };
  /** Adjusted one-sided t-test p-values of a change beyond the threshold: NEW worse / NEW better. */
  pRegressed: number;
  pImproved: number;
  /** Every NEW run beyond the threshold from every BASE run, in this direction; null when they overlap. */
  separated: Direction | null;
  /** Runs per side the observed change would need (null: unknown or no change beyond the threshold). */
  runsNeeded: number | null;
  runs: number;
  alpha: number;
  /** 0.1 for 10%. */
  threshold: number;
  floor: number;
  /** The interval of the ratio at the family's level: wholly beyond the threshold, the change is consistent (null: not looked at). */
  consistency?: { level: number; low: number; high: number } | null;
  /** NEW / BASE at equal load, from the load-adjusted test (null: the load of the runs is not known, or not for this metric). */
  loadRatio?: number | null;
}

export interface Decision {
  verdict: Verdict;
  direction: Direction | null;
  reason: string;
}

const pct = (r: number): string => (Number.isFinite(r) ? `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%` : 'from 0');
const p = (x: number): string => (x < 0.001 ? x.toExponential(1) : x.toFixed(3));

export function decide(v: VerdictInput): Decision {
  const up = 1 + v.threshold;
  const down = 1 / up;
  const t = `${(v.threshold * 100).toFixed(0)}%`;
  const lr = v.loadRatio ?? null;
  // At equal load: the change BASE's median would show, beyond the floor as the medians must be.
  const loadUp = lr !== null && lr > up && v.baseMedian * (lr - 1) >= v.floor;
  const loadDown = lr !== null && lr < down && v.baseMedian * (1 - lr) >= v.floor;
  const rawUp = v.ratio > up && v.newMedian - v.baseMedian >= v.floor;
  const rawDown = v.ratio < down && v.baseMedian - v.newMedian >= v.floor;
  const beyondUp = rawUp || loadUp;
  const beyondDown = rawDown || loadDown;
  // Said when the load is what puts the change beyond the threshold.
  const atLoad = (raw: boolean): string => (raw || lr === null ? '' : ` (${pct(lr)} at equal load)`);
  const level = `${Math.round(v.ci.level * 100)}%`;
  const more = v.runsNeeded === null ? '' : `; about ${v.runsNeeded} runs a side would tell`;
  if (beyondUp && v.pRegressed < v.alpha) {
    return {
      verdict: 'regressed',
      direction: 'worse',
      reason: `${pct(v.ratio)}${atLoad(rawUp)}, significantly beyond +${t} (p=${p(v.pRegressed)} adjusted, < ${v.alpha})`,
    };
  }
  if (beyondDown && v.pImproved < v.alpha) {
    return {
      verdict: 'improved',
      direction: 'better',
      reason: `${pct(v.ratio)}${atLoad(rawDown)}, significantly beyond -${((1 - down) * 100).toFixed(1)}% (p=${p(v.pImproved)} adjusted, < ${v.alpha})`,
    };
  }
  const c = v.consistency ?? null;
  const consistentUp = beyondUp && (v.separated === 'worse' || (c !== null && c.low > up));
  const consistentDown = beyondDown && (v.separated === 'better' || (c !== null && c.high < down));
  if (consistentUp || consistentDown) {
    const worse = consistentUp;
    const bound = worse ? `+${t}` : `-${((1 - down) * 100).toFixed(1)}%`;
    const how =
      v.separated !== null || c === null
        ? `every NEW run is ${worse ? 'above' : 'below'} every BASE run by more than ${t}`
        : `its ${(c.level * 100).toFixed(1)}% CI (${pct(c.low)} .. ${pct(c.high)}) lies wholly ${worse ? 'above' : 'below'} ${bound}`;
    return {
      verdict: 'needs-more-runs',
      direction: worse ? 'worse' : 'better',
      reason:
        `${pct(v.ratio)}: ${how}, ` +
        `but ${v.runs} runs a side cannot make that significant (p=${p(worse ? v.pRegressed : v.pImproved)} adjusted)` +
        (v.runsNeeded === null ? '' : `; record about ${v.runsNeeded} runs a side (--repeat ${v.runsNeeded})`),
    };
  }
  const ratioInside = v.ci.ratio.low >= down && v.ci.ratio.high <= up;
  const diffInside = v.ci.diff.low > -v.floor && v.ci.diff.high < v.floor;
  if (ratioInside || diffInside) {
    return {
      verdict: 'unchanged',
      direction: null,
      reason: ratioInside ? `${level} CI of the ratio inside ±${t}` : `the change is below the metric's floor (${v.floor})`,
    };
  }
  if (beyondUp || beyondDown) {
    return {
      verdict: 'too-noisy',
      direction: null,
      reason: `${pct(v.ratio)}${atLoad(beyondUp ? rawUp : rawDown)}, but the runs overlap and it is not significantly beyond ±${t} (p=${p(beyondUp ? v.pRegressed : v.pImproved)} adjusted)${more}`,
    };
  }
  return { verdict: 'too-noisy', direction: null, reason: `${level} CI of the ratio reaches past ±${t}` };
}
