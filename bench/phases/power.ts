/**
 * The power study of `tuner compare`, by simulation (seeded, no machine
 * needed): how often a change of a given size in one gated metric is
 * flagged, and how often comparisons of identical workloads fail the gate,
 * at 3, 5, 10 and 20 runs a side, among the 15 metrics of a full profile
 * (bench/lib/simulate.ts: shared per-run noise, 5% of runs disturbed by a
 * noisy neighbour, mostly-zero I/O metrics). Beside the design compare uses,
 * four others on the same simulated runs, as evidence for the choice.
 */
import { compareLib, type CompareLib } from '../lib/compare-api.js';
import { REALISTIC, simulateRuns, type SimMetric } from '../lib/simulate.js';
import { factorLabel, pct, type Table } from '../lib/table.js';

export const DESIGNS = ['tuner', 'before', 'tuner-all', 'rank+holm', 'welch+bh'] as const;
export type Design = (typeof DESIGNS)[number];

const ALPHA = 0.05;
const THRESHOLD = 0.1;
const NAMES = REALISTIC.map((m) => m.name);

/** Metrics whose changes the study injects: quiet, medium and noisy. */
export const TARGETS = ['wall_ns', 'futex.wait_ns', 'sched.runq_wait_ns'] as const;
export const FACTORS = [1.1, 1.25, 1.5, 2, 3];
export const RUNS = [3, 5, 10, 20];

type Runs = Array<Record<string, number>>;

/**
 * What each design flags. "tuner": what compare does by default (the time
 * totals gated; regressed, and the gate's failures with needs-more-runs);
 * "before": compare without the wait-share t-test and without
 * needs-more-runs from an interval beyond the threshold (the design this
 * one refines); "tuner-all": tuner with every metric gated (--metrics '*'). The others
 * gate all 15 metrics: "regressed" when the median is beyond the threshold
 * and the floor and the adjusted p-value of the one-sided test of a change
 * beyond the threshold is below alpha. "rank+holm" is what compare did
 * before (exact rank test, Tarone + Holm over both directions).
 */
export function flags(
  lib: CompareLib,
  base: Runs,
  next: Runs,
  resamples = 200,
): Record<Design, { regressed: Set<string>; gate: Set<string> }> {
  const { analyse, failsGate, bhAdjust, holmAdjust, taroneEligible, rankSumTest, trimmedTest } = lib;
  const floor = (m: string): number => lib.metricInfo(m).floor;
  const ours = (gated?: readonly string[], earlier = false): { regressed: Set<string>; gate: Set<string> } => {
    const rows = analyse(NAMES, base, next, {
      alpha: ALPHA,
      threshold: THRESHOLD,
      floor,
      resamples,
      gated,
      ...(earlier ? { waitShare: false, intervalNeedsMoreRuns: false } : {}),
    });
    return {
      regressed: new Set(rows.filter((r) => r.gated && r.verdict === 'regressed').map((r) => r.metric)),
      gate: new Set(rows.filter((r) => failsGate(r)).map((r) => r.metric)),
    };
  };
  const tuner = ours(lib.PRIMARY_METRICS);
  const rows = analyse(NAMES, base, next, { alpha: ALPHA, threshold: THRESHOLD, floor, resamples: 20 });
  const scale = 1 + THRESHOLD;
  const beyond = rows.map((r) => r.ratio !== null && r.ratio > scale && r.new.median! - r.base.median! >= floor(r.metric));
  const rank = rows.map((r) =>
    r.base.n && r.new.n
      ? rankSumTest(
          r.base.values,
          r.new.values.map((v) => v / scale),
        )
      : null,
  );
  const rankDown = rows.map((r) =>
    r.base.n && r.new.n
      ? rankSumTest(
          r.base.values,
          r.new.values.map((v) => v * scale),
        )
      : null,
  );
  const rankP = [...rank.map((t) => t?.pGreater ?? 1), ...rankDown.map((t) => t?.pLess ?? 1)];
  const holm = holmAdjust(
    rankP,
    taroneEligible([...rank.map((t) => t?.minPGreater ?? 1), ...rankDown.map((t) => t?.minPLess ?? 1)], ALPHA),
  );
  const welch = rows.map((r) => {
    if (r.base.n < 2 || r.new.n < 2) return { up: 1, down: 1 };
    const g = (x: number): number => Math.log(Math.max(0, x) + floor(r.metric));
    const b = r.base.values.map(g);
    return {
      up: trimmedTest(
        b,
        r.new.values.map((v) => g(v / scale)),
        0,
      ).pGreater,
      down: trimmedTest(
        b,
        r.new.values.map((v) => g(v * scale)),
        0,
      ).pLess,
    };
  });
  const wbh = bhAdjust(
    [...welch.map((w) => w.up), ...welch.map((w) => w.down)],
    [...rows.map((r) => r.in_family), ...rows.map((r) => r.in_family)],
  );
  const pick = (adj: number[]): Set<string> => new Set(rows.filter((_, i) => beyond[i] && adj[i]! < ALPHA).map((r) => r.metric));
  const wrap = (s: Set<string>): { regressed: Set<string>; gate: Set<string> } => ({ regressed: s, gate: s });
  return {
    tuner,
    before: ours(lib.PRIMARY_METRICS, true),
    'tuner-all': ours(),
    'rank+holm': wrap(pick(holm)),
    'welch+bh': wrap(pick(wbh)),
  };
}

export interface PowerCell {
  metric: string;
  runs: number;
  factor: number;
  trials: number;
  /** Trials in which the metric was flagged "regressed", per design. */
  regressed: Record<Design, number>;
  /** Trials in which the gate failed on the metric (regressed or needs-more-runs), per design. */
  gate: Record<Design, number>;
}

export interface FalseAlarms {
  runs: number;
  comparisons: number;
  /** Comparisons with any metric flagged regressed, per design. */
  regressed: Record<Design, number>;
  /** Comparisons whose gate failed (exit status not 0), per design. */
  gate: Record<Design, number>;
  /** The same counts over the first 20 comparisons. */
  first20Regressed: number;
  first20Gate: number;
}

export interface PowerResult {
  trials: number;
  nullComparisons: number;
  cells: PowerCell[];
  falseAlarms: FalseAlarms[];
  /** Smallest factor of FACTORS flagged in >= 95% of trials by tuner, per metric and run count (null: none): regressed, and gate failed. */
  reliable: Array<{ metric: string; runs: number; factor: number | null; gate: number | null }>;
  seconds: number;
}

const zero = (): Record<Design, number> => ({ tuner: 0, before: 0, 'tuner-all': 0, 'rank+holm': 0, 'welch+bh': 0 });

export async function powerStudy(opts: {
  trials: number;
  nullComparisons: number;
  log: (s: string) => void;
  metrics?: SimMetric[];
}): Promise<PowerResult> {
  const lib = await compareLib();
  const { seededRandom } = lib;
  const t0 = performance.now();
  const metrics = opts.metrics ?? REALISTIC;
  const cells: PowerCell[] = [];
  const falseAlarms: FalseAlarms[] = [];
  for (const runs of RUNS) {
    const fa: FalseAlarms = {
      runs,
      comparisons: opts.nullComparisons,
      regressed: zero(),
      gate: zero(),
      first20Regressed: 0,
      first20Gate: 0,
    };
    for (let i = 0; i < opts.nullComparisons; i++) {
      const random = seededRandom(90_000 + 1000 * runs + i);
      const f = flags(lib, simulateRuns(metrics, random, { runs }), simulateRuns(metrics, random, { runs }));
      for (const d of DESIGNS) if (f[d].regressed.size > 0) fa.regressed[d]++;
      for (const d of DESIGNS) if (f[d].gate.size > 0) fa.gate[d]++;
      if (i < 20) {
        if (f.tuner.regressed.size > 0) fa.first20Regressed++;
        if (f.tuner.gate.size > 0) fa.first20Gate++;
      }
    }
    falseAlarms.push(fa);
    opts.log(
      `power: identical workloads, ${runs} runs a side: ${fa.gate.tuner} of ${fa.comparisons} comparisons fail the gate (${fa.regressed.tuner} with a regression)`,
    );
    for (const metric of TARGETS) {
      for (const factor of FACTORS) {
        const cell: PowerCell = { metric, runs, factor, trials: opts.trials, regressed: zero(), gate: zero() };
        for (let i = 0; i < opts.trials; i++) {
          const random = seededRandom(70_000 + 1000 * runs + i);
          const f = flags(
            lib,
            simulateRuns(metrics, random, { runs }),
            simulateRuns(metrics, random, { runs, factor: { [metric]: factor } }),
          );
          for (const d of DESIGNS) if (f[d].regressed.has(metric)) cell.regressed[d]++;
          for (const d of DESIGNS) if (f[d].gate.has(metric)) cell.gate[d]++;
        }
        cells.push(cell);
      }
      opts.log(`power: ${metric}, ${runs} runs a side done`);
    }
  }
  const reliable = RUNS.flatMap((runs) =>
    TARGETS.map((metric) => {
      const at = (factor: number): PowerCell => cells.find((x) => x.metric === metric && x.runs === runs && x.factor === factor)!;
      // Reliable from this factor up: every larger change is flagged as often.
      const from = (ok: (c: PowerCell) => boolean): number | null =>
        FACTORS.find((f, i) => FACTORS.slice(i).every((g) => ok(at(g)))) ?? null;
      return {
        metric,
        runs,
        factor: from((c) => c.regressed.tuner >= 0.95 * c.trials),
        gate: from((c) => c.gate.tuner >= 0.95 * c.trials),
      };
    }),
  );
  return {
    trials: opts.trials,
    nullComparisons: opts.nullComparisons,
    cells,
    falseAlarms,
    reliable,
    seconds: (performance.now() - t0) / 1000,
  };
}

const LABEL: Record<Design, string> = {
  tuner: 'tuner: 5 time totals gated',
  before: 'before: no wait share, separation only',
  'tuner-all': 'tuner, all 15 gated',
  'rank+holm': 'rank, Tarone + Holm, 15',
  'welch+bh': 'Welch t + BH, 15',
};

/** The study's tables: flag rate by change and run count, false alarms, the design comparison. */
export function powerTables(r: PowerResult): Table[] {
  const noise = (m: string): string => `${Math.round(REALISTIC.find((x) => x.name === m)!.sigma * 100)}%`;
  const cell = (metric: string, runs: number, factor: number): PowerCell =>
    r.cells.find((x) => x.metric === metric && x.runs === runs && x.factor === factor)!;
  const smallest = (metric: string, key: 'factor' | 'gate'): string =>
    RUNS.map((runs) => {
      const x = r.reliable.find((y) => y.metric === metric && y.runs === runs)![key];
      return `${runs} runs ${x === null ? `none up to ${factorLabel(FACTORS.at(-1)!)}` : factorLabel(x)}`;
    }).join(', ');
  const out: Table[] = [];
  for (const metric of TARGETS) {
    out.push({
      title: `compare: ${metric} (log-noise ${noise(metric)}) changed in NEW: share of ${r.trials} simulated comparisons flagged regressed (gate failed on it)`,
      head: ['runs a side', ...FACTORS.map(factorLabel)],
      rows: RUNS.map((runs) => [
        String(runs),
        ...FACTORS.map((factor) => {
          const c = cell(metric, runs, factor);
          return `${pct(c.regressed.tuner, c.trials)} (${pct(c.gate.tuner, c.trials)})`;
        }),
      ]),
      notes: [
        `smallest change flagged regressed in >= 95%: ${smallest(metric, 'factor')}`,
        `smallest change failing the gate in >= 95%: ${smallest(metric, 'gate')}`,
      ],
    });
  }
  out.push({
    title: `compare: identical workloads, ${r.nullComparisons} simulated comparisons per run count (15 metrics, the 5 time totals gated, threshold 10%, alpha 0.05)`,
    head: ['runs a side', 'gate failed', 'gated metric regressed', 'first 20: gate failed', 'first 20: regressed'],
    rows: r.falseAlarms.map((f) => [
      String(f.runs),
      `${f.gate.tuner} (${pct(f.gate.tuner, f.comparisons)})`,
      `${f.regressed.tuner} (${pct(f.regressed.tuner, f.comparisons)})`,
      String(f.first20Gate),
      String(f.first20Regressed),
    ]),
  });
  out.push({
    title:
      'compare designs on the same simulated runs: 2x change failing the gate on it (wall / futex wait / run-queue wait), and identical comparisons failing the gate',
    head: ['design', ...RUNS.map((n) => `2x, ${n} runs`), ...RUNS.map((n) => `false, ${n} runs`)],
    rows: DESIGNS.map((d) => [
      LABEL[d],
      ...RUNS.map((n) => TARGETS.map((m) => pct(cell(m, n, 2).gate[d], r.trials)).join(' / ')),
      ...RUNS.map((n) => pct(r.falseAlarms.find((f) => f.runs === n)!.gate[d], r.nullComparisons)),
    ]),
  });
  return out;
}
