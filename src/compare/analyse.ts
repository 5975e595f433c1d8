/**
 * Per-metric statistics of BASE against NEW, and the verdicts.
 *
 * Each metric is looked at on a log scale, g(x) = ln(x + floor), where a
 * ratio is a difference and the metric's floor keeps zeros finite. A change
 * BEYOND the threshold t is tested, not just any change: NEW / (1 + t)
 * against BASE (regressed by more than t) and NEW * (1 + t) against BASE
 * (improved by more than t). Two or three one-sided tests look at each
 * claim, and its p-value is their number times the smallest of theirs (a
 * union bound, valid whatever their dependence):
 *
 * - Yuen's trimmed t-test on the log values (Welch's test on 20%-trimmed
 *   means: one disturbed run of five is dropped from each side). It can show
 *   a large, clean change as significant with 3 to 5 runs a side. For a wait
 *   total (a `*wait_ns`: run-queue, futex, I/O wait) it looks at the wait per second of the same run's
 *   wall time instead, ln((x + floor) / wall): a busier machine stretches a
 *   run's waits and its wall time together, and the within-run ratio cancels
 *   that shared part (on recordings of a shared 2-CPU machine its spread was
 *   2 to 3 times smaller than the wait's own; docs/compare.md).
 * - the exact Mann-Whitney U test: it sees runs that are all worse even when
 *   some are wildly so (two disturbed NEW runs of five swamp a t-test).
 * - for wall time and the wait totals, when the load of each run is known
 *   (the share of the CPUs busy with other work), a t-test of the change
 *   adjusted for it (analysis of covariance on ln(x + floor)): on a shared
 *   machine that load explains most of their spread between runs. The
 *   claim's p-value is then three times the smallest.
 *
 * The claims are adjusted with Benjamini-Hochberg in two families: the
 * regressions of the gated metrics (the gate's decision: when nothing
 * changed, the chance of any false regression is at most alpha), and every
 * other claim (improvements, metrics only reported). Metrics whose values
 * are all equal (0 in every run) cannot show a change and stay out of the
 * families. The bootstrap interval of the ratio of medians says "unchanged"
 * (inside the threshold), "too noisy" (straddling it) or, beyond it without
 * significance, "needs more runs". The simulation
 * behind these choices: `npm run bench -- --only power-sim`, docs/compare.md.
 */
import { median } from 'simple-statistics';
import { bootstrapMedianChange, medianRatio, type MedianChangeInterval } from '../stats/bootstrap.js';
import { bhAdjust } from '../stats/multiple.js';
import { rankSumTest, type RankSumTest } from '../stats/rank-sum.js';
import { seedOf } from '../stats/rng.js';
import { runsPerSide } from '../stats/sample-size.js';
import { adjustedTest, type AdjustedTest } from '../stats/ancova.js';
import { bestPower, runsForPower } from '../stats/power.js';
import { pooledWinsorizedSd, trimmedTest, type TrimmedTest } from '../stats/t-test.js';
import { decide, type Direction, type Verdict } from './verdict.js';

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
  /** Whether the gate looks at this metric (otherwise it is only reported). */
  gated: boolean;
  test: {
    /** Per claim: 2 x the smaller of the two tests' p-values, before adjustment. */
    p_regressed: number;
    p_improved: number;
    /** Yuen's trimmed t-test, one-sided, of a change beyond the threshold, on `t_scale` values. */
    t_p_regressed: number;
    t_p_improved: number;
    /** ln(x + floor), or ln((x + floor) / wall time of the run) for a wait total (the wait per second of the run). */
    t_scale: TScale;
    /** Mann-Whitney U of the same claims, exact for small samples, unadjusted. */
    rank_exact: boolean;
    rank_p_regressed: number;
    rank_p_improved: number;
    /** Two-sided rank-test p-value of any change (no threshold, not adjusted): for information. */
    p_change: number;
    /**
     * The test of the same claims on ln(x + floor) adjusted for the share of
     * the machine busy with other work in each run (wall time and wait
     * totals, when the profiles have it): p-values, the common slope per
     * percentage point of load, and NEW / BASE at equal load (the change
     * once each run's load is taken out); null when not run.
     */
    load: { p_regressed: number; p_improved: number; slope: number; ratio: number } | null;
  } | null;
  /** Benjamini-Hochberg adjusted p-values of the claims; 1 for a metric outside the families. */
  p_regressed_adjusted: number;
  p_improved_adjusted: number;
  /** False when its values are all equal (e.g. 0 in every run): it cannot show a change and does not dilute the others. */
  in_family: boolean;
  /** Every NEW run beyond the threshold from every BASE run, this way; null when the runs overlap. */
  separated: Direction | null;
  /** Runs per side that would likely make the observed change significant (needs-more-runs, too-noisy). */
  runs_needed: number | null;
  /**
   * What these runs' spread allows (null with fewer than 2 runs a side): the
   * pooled winsorized sd of the t-test's values (log, or log share of wall),
   * the best power any one-sided test at alpha could have for a 2x change
   * with these run counts at that spread, and the runs a side that would
   * reach 95%.
   */
  reach: { sd: number; power_2x: number; runs_for_2x: number | null } | null;
  verdict: Verdict;
  /** worse / better for regressed, improved and needs-more-runs. */
  direction: Direction | null;
  reason: string;
}

/** The values the trimmed t-test looks at. */
export type TScale = 'log' | 'log-share-of-wall';

export interface AnalyseOptions {
  alpha: number;
  /** Metrics the gate looks at (default: all). */
  gated?: readonly string[];
  threshold: number;
  floor: (metric: string) => number;
  /** Bootstrap resamples (default 4000). */
  resamples?: number;
  /**
   * Test a wait total's share of the run's wall time (default true). The
   * power study turns it off to measure the design without it.
   */
  waitShare?: boolean;
  /**
   * A change whose interval lies beyond the threshold but that is not
   * significant is needs-more-runs (default true); otherwise only runs that
   * are all beyond are. For the power study, as above.
   */
  intervalNeedsMoreRuns?: boolean;
  /**
   * The share of the machine busy with other work during each run (BASE and
   * NEW, run by run, aligned with the runs; null where unknown). With it,
   * wall time and the wait totals get a third test: the change adjusted for
   * that load (analysis of covariance on the log values).
   */
  load?: { base: ReadonlyArray<number | null>; new: ReadonlyArray<number | null> };
  /** How the load-adjusted test joins the others (default 'add'; the power study compares). */
  adjust?: 'add' | 'replace' | 'off';
}

function sample(values: ReadonlyArray<number | null | undefined>): Sample {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return { n: v.length, median: v.length ? median(v) : null, values: v };
}

interface Claims {
  metric: string;
  b: Sample;
  n: Sample;
  floor: number;
  /** Log values: BASE, NEW / (1 + t), NEW * (1 + t). */
  lb: number[];
  lUp: number[];
  lDown: number[];
  up: TrimmedTest | null;
  down: TrimmedTest | null;
  rankUp: RankSumTest | null;
  rankDown: RankSumTest | null;
  /** The load-adjusted tests (null: no load figures, or the metric is not one the load stretches). */
  adjUp: AdjustedTest | null;
  adjDown: AdjustedTest | null;
  plain: RankSumTest | null;
  tied: boolean;
  scale: TScale;
}

/** A wait total: its share of the run's wall time is what the t-test looks at. */
const isWaitTotal = (metric: string): boolean => metric.endsWith('wait_ns');

/**
 * ln(x + floor) - ln(wall) per run, or null unless every run with a value
 * of the metric has a positive wall time (then the log values are used).
 */
function shareOfWall(runs: ReadonlyArray<Record<string, number | null>>, metric: string, floor: number, divide: number): number[] | null {
  const out: number[] = [];
  for (const r of runs) {
    const x = r[metric];
    if (typeof x !== 'number' || !Number.isFinite(x)) continue;
    const wall = r.wall_ns;
    if (typeof wall !== 'number' || !Number.isFinite(wall) || wall <= 0) return null;
    out.push(Math.log(Math.max(0, x) / divide + floor) - Math.log(wall));
  }
  return out;
}

/** Wall time and the wait totals: what a busier machine stretches. */
const isLoadSensitive = (metric: string): boolean => metric === 'wall_ns' || isWaitTotal(metric);

/** ln(x / divide + floor) and the run's load, for every run with both; null when a run with a value has no load. */
function withLoad(
  runs: ReadonlyArray<Record<string, number | null>>,
  load: ReadonlyArray<number | null>,
  metric: string,
  floor: number,
  divide: number,
): { v: number[]; u: number[] } | null {
  const v: number[] = [];
  const u: number[] = [];
  for (const [i, r] of runs.entries()) {
    const x = r[metric];
    if (typeof x !== 'number' || !Number.isFinite(x)) continue;
    const l = load[i];
    if (typeof l !== 'number' || !Number.isFinite(l)) return null;
    v.push(Math.log(Math.max(0, x) / divide + floor));
    u.push(l);
  }
  return { v, u };
}

function claims(
  metric: string,
  base: ReadonlyArray<Record<string, number | null>>,
  next: ReadonlyArray<Record<string, number | null>>,
  floor: number,
  scale: number,
  waitShare: boolean,
  load: AnalyseOptions['load'],
): Claims {
  const b = sample(base.map((r) => r[metric]));
  const n = sample(next.map((r) => r[metric]));
  const g = (x: number): number => Math.log(Math.max(0, x) + floor);
  const share = waitShare && isWaitTotal(metric);
  const sb = share ? shareOfWall(base, metric, floor, 1) : null;
  const sUp = share ? shareOfWall(next, metric, floor, scale) : null;
  const sDown = share ? shareOfWall(next, metric, floor, 1 / scale) : null;
  const useShare = sb !== null && sUp !== null && sDown !== null;
  const lb = useShare ? sb : b.values.map(g);
  const lUp = useShare ? sUp : n.values.map((v) => g(v / scale));
  const lDown = useShare ? sDown : n.values.map((v) => g(v * scale));
  const ok = b.n > 0 && n.n > 0;
  const two = b.n >= 2 && n.n >= 2;
  const adjusted = (divide: number): AdjustedTest | null => {
    if (!load || !two || !isLoadSensitive(metric)) return null;
    const lb = withLoad(base, load.base, metric, floor, 1);
    const ln = withLoad(next, load.new, metric, floor, divide);
    return lb && ln ? adjustedTest(lb.v, lb.u, ln.v, ln.u) : null;
  };
  const all = [...b.values, ...n.values];
  return {
    metric,
    b,
    n,
    floor,
    lb,
    lUp,
    lDown,
    up: two ? trimmedTest(lb, lUp) : null,
    down: two ? trimmedTest(lb, lDown) : null,
    rankUp: ok
      ? rankSumTest(
          b.values,
          n.values.map((v) => v / scale),
        )
      : null,
    adjUp: adjusted(scale),
    adjDown: adjusted(1 / scale),
    rankDown: ok
      ? rankSumTest(
          b.values,
          n.values.map((v) => v * scale),
        )
      : null,
    plain: ok ? rankSumTest(b.values, n.values) : null,
    tied: all.every((v) => v === all[0]),
    scale: useShare ? 'log-share-of-wall' : 'log',
  };
}

/** One p-value for a claim several tests examine: the smallest times their number (Bonferroni over them). */
function combined(ps: readonly number[]): number {
  return Math.min(1, ps.length * Math.min(...ps));
}

function separation(c: Claims, scale: number): Direction | null {
  if (c.b.n === 0 || c.n.n === 0 || c.b.median === null || c.n.median === null) return null;
  const bMin = Math.min(...c.b.values);
  const bMax = Math.max(...c.b.values);
  const nMin = Math.min(...c.n.values);
  const nMax = Math.max(...c.n.values);
  if (nMin > bMax * scale && c.n.median - c.b.median >= c.floor) return 'worse';
  if (nMax * scale < bMin && c.b.median - c.n.median >= c.floor) return 'better';
  return null;
}

export function analyse(
  metrics: readonly string[],
  base: ReadonlyArray<Record<string, number | null>>,
  next: ReadonlyArray<Record<string, number | null>>,
  opts: AnalyseOptions,
): MetricComparison[] {
  const scale = 1 + opts.threshold;
  const adjust = opts.adjust ?? 'add';
  const load = adjust === 'off' ? undefined : opts.load;
  const rows = metrics.map((metric) => claims(metric, base, next, opts.floor(metric), scale, opts.waitShare ?? true, load));
  const m = rows.length;
  const gated = rows.map((r) => !opts.gated || opts.gated.includes(r.metric));
  const eligible = rows.map((r) => r.rankUp !== null && !r.tied);
  // The trimmed t-test and the rank test; and the load-adjusted test when there is one, beside them or instead of the t-test.
  const tests = (t: number | undefined, rank: number | undefined, adj: number | undefined): number[] => {
    if (adj === undefined) return [t ?? 1, rank ?? 1];
    return adjust === 'replace' ? [adj, rank ?? 1] : [t ?? 1, rank ?? 1, adj];
  };
  const pUp = rows.map((r) => combined(tests(r.up?.pGreater, r.rankUp?.pGreater, r.adjUp?.pGreater)));
  const pDown = rows.map((r) => combined(tests(r.down?.pLess, r.rankDown?.pLess, r.adjDown?.pLess)));
  // Family 1: the gated metrics' regressions. Family 2: every other claim.
  const gateFamily = [...rows.map((_, i) => eligible[i]! && gated[i]!), ...rows.map(() => false)];
  const otherFamily = [...rows.map((_, i) => eligible[i]! && !gated[i]!), ...eligible];
  const all = [...pUp, ...pDown];
  const adjGate = bhAdjust(all, gateFamily);
  const adjOther = bhAdjust(all, otherFamily);
  const adjusted = all.map((_, k) => (gateFamily[k] ? adjGate[k]! : adjOther[k]!));
  const familySize = Math.max(1, gateFamily.filter(Boolean).length);
  const level = 1 - opts.alpha;
  // An interval that makes a change "consistent" (needs-more-runs fails the gate) covers the whole family, as the tests do.
  const consistencyLevel = (i: number): number =>
    1 - opts.alpha / (gated[i] ? familySize : Math.max(1, otherFamily.slice(0, m).filter(Boolean).length));

  return rows.map((c, i): MetricComparison => {
    const { metric, b, n } = c;
    const separated = separation(c, scale);
    const runs = Math.min(b.n, n.n);
    const sd = runs >= 2 && !c.tied ? pooledWinsorizedSd(c.lb, c.lUp) : null;
    const bound = sd === null ? null : { sigma: sd, factor: 2, threshold: opts.threshold, alpha: opts.alpha };
    const common = {
      reach: bound && { sd: bound.sigma, power_2x: bestPower(bound, runs), runs_for_2x: runsForPower(bound) },
      metric,
      base: b,
      new: n,
      gated: gated[i]!,
      p_regressed_adjusted: adjusted[i]!,
      p_improved_adjusted: adjusted[m + i]!,
      in_family: eligible[i]!,
      separated,
    };
    if (!c.plain || !c.rankUp || !c.rankDown || b.median === null || n.median === null) {
      return {
        ...common,
        ratio: null,
        ci: null,
        test: null,
        runs_needed: null,
        // Nothing measured on either side (no I/O, so no I/O latency): nothing changed. On one side only: no verdict.
        verdict: b.n === 0 && n.n === 0 ? 'unchanged' : 'too-noisy',
        direction: null,
        reason: b.n === 0 && n.n === 0 ? 'nothing measured on either side' : `no values in ${b.n === 0 ? 'BASE' : 'NEW'}`,
      };
    }
    const ratio = medianRatio(b.median, n.median);
    // NEW / BASE at equal load: the regression claim's adjusted difference was taken with NEW divided by the threshold's scale.
    const loadRatio = c.adjUp && c.adjDown ? Math.exp(c.adjUp.diff) * scale : null;
    const ci = bootstrapMedianChange(b.values, n.values, { level, seed: seedOf(metric), resamples: opts.resamples });
    const scale1 = 1 + opts.threshold;
    const wide = ratio > scale1 || ratio < 1 / scale1;
    const consistency =
      wide && (opts.intervalNeedsMoreRuns ?? true)
        ? bootstrapMedianChange(b.values, n.values, { level: consistencyLevel(i), seed: seedOf(metric), resamples: opts.resamples })
        : null;
    // The runs that would make the observed change significant, were it to hold: effect beyond the threshold, observed spread.
    const worse = ratio >= 1;
    const t = worse ? c.up : c.down;
    const runsNeeded = t
      ? runsPerSide({
          effect: worse ? t.diff : -t.diff,
          se: t.se,
          runs: Math.min(b.n, n.n),
          level: opts.alpha / (2 * familySize),
          separated: separated !== null,
        })
      : null;
    const decision = decide({
      baseMedian: b.median,
      newMedian: n.median,
      ratio,
      ci,
      pRegressed: adjusted[i]!,
      pImproved: adjusted[m + i]!,
      separated,
      runsNeeded,
      runs: Math.min(b.n, n.n),
      alpha: opts.alpha,
      threshold: opts.threshold,
      floor: c.floor,
      consistency: consistency && { level: consistency.level, ...consistency.ratio },
      loadRatio,
    });
    return {
      ...common,
      ratio,
      ci,
      test: {
        p_regressed: pUp[i]!,
        p_improved: pDown[i]!,
        t_p_regressed: c.up?.pGreater ?? 1,
        t_p_improved: c.down?.pLess ?? 1,
        t_scale: c.scale,
        rank_exact: c.plain.exact,
        rank_p_regressed: c.rankUp.pGreater,
        rank_p_improved: c.rankDown.pLess,
        p_change: c.plain.pTwoSided,
        load:
          c.adjUp && c.adjDown && loadRatio !== null
            ? { p_regressed: c.adjUp.pGreater, p_improved: c.adjDown.pLess, slope: c.adjUp.slope, ratio: loadRatio }
            : null,
      },
      runs_needed: decision.verdict === 'needs-more-runs' || decision.verdict === 'too-noisy' ? runsNeeded : null,
      ...decision,
    };
  });
}

/** Whether a row fails the gate: a gated metric regressed, or needs more runs to tell a worsening (unless allowed). */
export function failsGate(r: MetricComparison, allowNeedsMoreRuns = false): boolean {
  return r.gated && (r.verdict === 'regressed' || (!allowNeedsMoreRuns && r.verdict === 'needs-more-runs' && r.direction === 'worse'));
}
