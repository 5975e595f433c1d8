/**
 * compare on the noise of real runs (no root: recordings kept in
 * bench/data/, made with `tuner record` on a 2-CPU machine shared with other
 * work). Three answers: how wide real runs spread per metric next to what
 * the simulation assumes; the best power any test could have at that spread
 * (a bound, under a normal model of the log values); and how often compare
 * flags a change injected into real runs (NEW's metric multiplied), and
 * fails the gate on identical runs, with BASE and NEW taken in alternation
 * or one after the other.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cumulativeStdNormalProbability as normalCdf, probit } from 'simple-statistics';
import type { CompareLib } from '../lib/compare-api.js';
import { BENCH_SRC } from '../lib/paths.js';
import { LOAD, REALISTIC } from '../lib/simulate.js';
import { factorLabel, pct, type Table } from '../lib/table.js';

type Run = Record<string, number | null>;

export interface Recording {
  name: string;
  workload: string;
  recorded: string;
  runs: Run[];
  /** host.other_busy_pct of each run, when recorded: the load compare adjusts wall time and waits for. */
  load?: Array<number | null>;
}

/** The metrics whose noise and power are looked at: the gated time totals a CPU-bound workload has. */
export const NOISE_METRICS = ['wall_ns', 'cpu_ns', 'futex.wait_ns', 'sched.runq_wait_ns'] as const;
export const REAL_FACTORS = [1.25, 1.5, 2, 3];
export const REAL_RUNS = [5, 10];
const ALPHA = 0.05;
/** The gate's level for one changed metric among the 4 gated time totals a CPU-bound workload has (I/O wait is 0). */
const GATE_LEVEL = ALPHA / 4;
const THRESHOLD = 0.1;

export function loadRecordings(dir = path.join(BENCH_SRC, 'data')): Recording[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const rec = { name: f.replace(/\.json$/, ''), ...(JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Omit<Recording, 'name'>) };
      // Each run carries its load, so a run and its load stay together however the runs are cut.
      if (rec.load) rec.runs = rec.runs.map((r, i) => ({ ...r, [LOAD]: rec.load![i] ?? null }));
      return rec;
    });
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};
const sd = (xs: readonly number[]): number => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};
/** 1.4826 x the median absolute deviation: the sd of a normal sample, blind to a minority of wild runs. */
const robustSd = (xs: readonly number[]): number => {
  const m = median(xs);
  return 1.4826 * median(xs.map((x) => Math.abs(x - m)));
};

export interface Spread {
  recording: string;
  metric: string;
  /** On the scale compare's t-test uses: ln(x + floor), or ln((x + floor) / wall) for a wait total. */
  scale: 'log' | 'share';
  sd: number;
  robust: number;
  /** The same of ln(x + floor) for a wait total (its own spread), else = sd. */
  ownSd: number;
  /** sd of ln(x + floor) around its least-squares line on the run's load (wall time and waits, recordings with load). */
  loadSd: number | null;
}

/** Residual sd of ys around their least-squares line on us (n - 2 degrees of freedom). */
function residualSd(ys: readonly number[], us: readonly number[]): number {
  const n = ys.length;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const mu = us.reduce((a, b) => a + b, 0) / n;
  let suu = 0;
  let suy = 0;
  ys.forEach((y, i) => {
    suu += (us[i]! - mu) ** 2;
    suy += (us[i]! - mu) * (y - my);
  });
  const b = suu > 0 ? suy / suu : 0;
  return Math.sqrt(ys.reduce((a, y, i) => a + (y - my - b * (us[i]! - mu)) ** 2, 0) / (n - 2));
}

export function spreads(lib: CompareLib, recs: readonly Recording[]): Spread[] {
  return recs.flatMap((rec) =>
    NOISE_METRICS.map((metric): Spread => {
      const floor = lib.metricInfo(metric).floor;
      const runs = rec.runs.filter((r) => typeof r[metric] === 'number' && typeof r.wall_ns === 'number');
      const own = runs.map((r) => Math.log(r[metric]! + floor));
      const share = metric.endsWith('wait_ns');
      const xs = share ? runs.map((r) => Math.log(r[metric]! + floor) - Math.log(r.wall_ns!)) : own;
      const loaded = runs.filter((r) => typeof r[LOAD] === 'number');
      const loadSd =
        metric !== 'cpu_ns' && loaded.length === runs.length && runs.length > 2
          ? residualSd(
              loaded.map((r) => Math.log(r[metric]! + floor)),
              loaded.map((r) => r[LOAD]!),
            )
          : null;
      return { recording: rec.name, metric, scale: share ? 'share' : 'log', sd: sd(xs), robust: robustSd(xs), ownSd: sd(own), loadSd };
    }),
  );
}

/**
 * The best power any one-sided test at `alpha` could have for a change by
 * `factor` beyond the threshold, with n independent runs a side, if the
 * values were normal with this sd and the sd were known (a z-test): an
 * upper bound for independent runs. (Runs recorded in alternation under a
 * load that drifts are paired in effect, and can do better.)
 */
export function bestPower(sigma: number, factor: number, n: number, alpha = ALPHA): number {
  const effect = Math.log(factor / (1 + THRESHOLD));
  if (sigma === 0) return 1;
  return normalCdf(effect / (sigma * Math.sqrt(2 / n)) - probit(1 - alpha));
}

/** Runs a side at which that bound reaches `power`. */
export function runsForPower(sigma: number, factor: number, power = 0.95, alpha = ALPHA): number {
  const effect = Math.log(factor / (1 + THRESHOLD));
  const z = probit(1 - alpha) + probit(power);
  return Math.max(2, Math.ceil((2 * sigma * sigma * z * z) / (effect * effect)));
}

export interface InjectedCell {
  recording: string;
  metric: string;
  runs: number;
  factor: number;
  trials: number;
  /** Trials whose gate failed on the metric: compare as built, and without the load-adjusted test. */
  tuner: number;
  before: number;
}

export interface RealNull {
  recording: string;
  runs: number;
  order: 'alternating' | 'one after the other';
  trials: number;
  tuner: number;
  before: number;
}

export interface RealPower {
  spreads: Spread[];
  injected: InjectedCell[];
  nulls: RealNull[];
  trials: number;
}

/** Gate failures on each gated metric: compare as built, and without the load-adjusted test ("before"). */
export function gateFails(
  lib: CompareLib,
  names: readonly string[],
  base: readonly Run[],
  next: readonly Run[],
  resamples = 400,
): { tuner: Set<string>; before: Set<string> } {
  const loadOf = (runs: readonly Run[]): Array<number | null> => runs.map((r) => r[LOAD] ?? null);
  const opts = {
    load: { base: loadOf(base), new: loadOf(next) },
    alpha: ALPHA,
    threshold: THRESHOLD,
    floor: (m: string) => lib.metricInfo(m).floor,
    gated: lib.PRIMARY_METRICS.filter((m) => names.includes(m)),
    resamples,
  };
  const fails = (rows: ReturnType<CompareLib['analyse']>): Set<string> =>
    new Set(rows.filter((r) => lib.failsGate(r)).map((r) => r.metric));
  return {
    tuner: fails(lib.analyse(names, base, next, opts)),
    before: fails(lib.analyse(names, base, next, { ...opts, adjust: 'off' })),
  };
}

/**
 * Comparisons cut from a recording: a block of 2n consecutive runs from a
 * seeded start, BASE and NEW taken in alternation (or the first n and the
 * last n), and with NEW's metric multiplied by the factor.
 */
export function realPower(lib: CompareLib, recs: readonly Recording[], opts: { trials: number; log: (s: string) => void }): RealPower {
  const injected: InjectedCell[] = [];
  const nulls: RealNull[] = [];
  for (const rec of recs) {
    const names = [...new Set(rec.runs.flatMap((r) => Object.keys(r)))].filter((m) => m !== LOAD);
    const targets = NOISE_METRICS.filter((m) => median(rec.runs.map((r) => r[m] ?? 0)) > lib.metricInfo(m).floor);
    for (const runs of REAL_RUNS) {
      const random = lib.seededRandom(50_000 + runs);
      const blocks = Array.from({ length: opts.trials }, () => {
        const at = Math.floor(random() * (rec.runs.length - 2 * runs + 1));
        return rec.runs.slice(at, at + 2 * runs);
      });
      const alternate = (b: Run[]): [Run[], Run[]] => [b.filter((_, i) => i % 2 === 0), b.filter((_, i) => i % 2 === 1)];
      for (const order of ['alternating', 'one after the other'] as const) {
        const n: RealNull = { recording: rec.name, runs, order, trials: opts.trials, tuner: 0, before: 0 };
        for (const b of blocks) {
          const [base, next] = order === 'alternating' ? alternate(b) : [b.slice(0, runs), b.slice(runs)];
          const f = gateFails(lib, names, base, next);
          if (f.tuner.size) n.tuner++;
          if (f.before.size) n.before++;
        }
        nulls.push(n);
      }
      for (const metric of targets) {
        for (const factor of REAL_FACTORS) {
          const c: InjectedCell = { recording: rec.name, metric, runs, factor, trials: opts.trials, tuner: 0, before: 0 };
          for (const b of blocks) {
            const [base, next] = alternate(b);
            const f = gateFails(
              lib,
              names,
              base,
              next.map((r) => ({ ...r, [metric]: r[metric]! * factor })),
            );
            if (f.tuner.has(metric)) c.tuner++;
            if (f.before.has(metric)) c.before++;
          }
          injected.push(c);
        }
      }
      opts.log(`power: real runs of ${rec.name}, ${runs} runs a side done`);
    }
  }
  return { spreads: spreads(lib, recs), injected, nulls, trials: opts.trials };
}

const simSigma = (m: string): string => {
  const s = REALISTIC.find((x) => x.name === m)?.sigma;
  return s === undefined ? '-' : s.toFixed(2);
};

export function realPowerTables(r: RealPower, recs: readonly Recording[]): Table[] {
  const names = [...new Set(r.spreads.map((s) => s.recording))];
  const spreadRows = NOISE_METRICS.map((metric) => [
    metric,
    simSigma(metric),
    ...names.map((rec) => {
      const s = r.spreads.find((x) => x.recording === rec && x.metric === metric)!;
      const adj = s.loadSd === null ? '' : `; load-adjusted ${s.loadSd.toFixed(2)}`;
      return s.scale === 'share'
        ? `${s.ownSd.toFixed(2)}; share ${s.sd.toFixed(2)} (${s.robust.toFixed(2)})${adj}`
        : `${s.sd.toFixed(2)} (${s.robust.toFixed(2)})${adj}`;
    }),
  ]);
  // The smaller of the two spreads: the bound is then the most generous either reading allows.
  const bound = r.spreads
    .map((s) => ({ ...s, sigma: Math.min(s.sd, s.robust, s.loadSd ?? Infinity) }))
    .filter((s) => s.sigma > 0)
    .map((s) => [
      s.recording,
      s.metric,
      `${s.sigma.toFixed(3)}${s.sigma === s.loadSd ? ' (load-adjusted)' : s.scale === 'share' ? ' (share)' : ''}`,
      pct(100 * bestPower(s.sigma, 2, 5), 100),
      pct(100 * bestPower(s.sigma, 2, 5, GATE_LEVEL), 100),
      pct(100 * bestPower(s.sigma, 2, 10), 100),
      String(runsForPower(s.sigma, 2)),
      String(runsForPower(s.sigma, 1.25)),
    ]);
  const cell = (rec: string, metric: string, runs: number, factor: number): InjectedCell | undefined =>
    r.injected.find((c) => c.recording === rec && c.metric === metric && c.runs === runs && c.factor === factor);
  const injectedRows = names.flatMap((rec) =>
    NOISE_METRICS.flatMap((metric) =>
      REAL_RUNS.flatMap((runs) => {
        const cs = REAL_FACTORS.map((f) => cell(rec, metric, runs, f));
        if (cs.some((c) => !c)) return [];
        return [[rec, metric, String(runs), ...cs.map((c) => `${pct(c!.tuner, c!.trials)} (${pct(c!.before, c!.trials)})`)]];
      }),
    ),
  );
  return [
    {
      title:
        "spread of real runs: sd of ln(x + floor) over the runs of each recording (robust sd, 1.4826 x MAD, in parentheses), and the simulation's log-noise",
      head: ['metric', 'simulated', ...names],
      rows: spreadRows,
      notes: [
        "wait totals: their own sd, then the sd of ln((x + floor) / wall time of the run), the values compare's t-test uses",
        'load-adjusted (recordings with the load of each run): the sd of ln(x + floor) around its least-squares line on the share of the CPUs busy with other work during the run',
        ...recs.map((x) => `${x.name}: ${x.workload}, ${x.runs.length} runs (${x.recorded})`),
      ],
    },
    {
      title:
        'the best any test could do at that spread with independent runs: power of a one-sided z-test at alpha 0.05 with the sd known (the smaller of sd and robust sd, normal model), for a 2x change, and runs a side for 95%',
      head: [
        'recording',
        'metric',
        'sd',
        '2x, 5 runs',
        '2x, 5 runs, at alpha / 4',
        '2x, 10 runs',
        'runs for 2x at 95%',
        'runs for +25% at 95%',
      ],
      rows: bound,
      notes: [
        'at alpha / 4: the level the gate holds a lone change of one of the 4 gated metrics these runs measure to (Benjamini-Hochberg; I/O wait is 0 in every run)',
      ],
    },
    {
      title: `compare on real runs with a change injected into NEW (its metric multiplied; BASE and NEW in alternation from ${r.trials} blocks of consecutive runs): gate failed on the metric, compare as built (in parentheses: without the load-adjusted test)`,
      head: ['recording', 'metric', 'runs a side', ...REAL_FACTORS.map(factorLabel)],
      rows: injectedRows,
    },
    {
      title: `compare on real identical runs (${r.trials} blocks of consecutive runs each): comparisons failing the gate, compare as built (without the load-adjusted test)`,
      head: ['recording', 'runs a side', 'BASE and NEW', 'gate failed'],
      rows: r.nulls.map((n) => [n.recording, String(n.runs), n.order, `${pct(n.tuner, n.trials)} (${pct(n.before, n.trials)})`]),
    },
  ];
}
