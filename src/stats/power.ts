/**
 * What a spread allows: the best power any one-sided test could have for a
 * change of a given size with n runs a side, and the runs a side that would
 * reach a given power. The bound is a z-test with the spread known, on log
 * values assumed normal: no test of independent runs does better, so when
 * it is low, the metric is out of reach at these run counts whatever the
 * statistics (compare says so instead of passing silently).
 */
import { cumulativeStdNormalProbability as normalCdf, probit } from 'simple-statistics';

export interface PowerBoundInput {
  /** sd of the metric's log values (natural log) between identical runs. */
  sigma: number;
  /** The change, as a ratio (2 for 2x). */
  factor: number;
  /** The threshold the change must exceed (0.1 for 10%). */
  threshold: number;
  /** One-sided level (default 0.05, before any adjustment for several metrics: the most generous). */
  alpha?: number;
}

/** The best power at n runs a side (1 when the spread is 0; 0 for a change not beyond the threshold). */
export function bestPower(v: PowerBoundInput, n: number): number {
  const effect = Math.log(v.factor / (1 + v.threshold));
  if (!(effect > 0)) return 0;
  if (v.sigma === 0) return 1;
  return normalCdf(effect / (v.sigma * Math.sqrt(2 / n)) - probit(1 - (v.alpha ?? 0.05)));
}

/** Runs a side at which that bound reaches `power` (null for a change not beyond the threshold). */
export function runsForPower(v: PowerBoundInput, power = 0.95): number | null {
  const effect = Math.log(v.factor / (1 + v.threshold));
  if (!(effect > 0)) return null;
  const z = probit(1 - (v.alpha ?? 0.05)) + probit(power);
  return Math.max(2, Math.ceil((2 * v.sigma * v.sigma * z * z) / (effect * effect)));
}
