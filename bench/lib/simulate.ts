/**
 * Seeded simulation of recorded runs, for testing compare's statistics on
 * many comparisons: each run is a vector of metrics that share a per-run
 * "machine state" factor (metrics move together, as wall, CPU and wait times
 * do), with per-metric log-normal noise, occasional noisy-neighbour outliers,
 * and metrics that are mostly zero. Shapes follow real profiles of this
 * machine (see test/fixtures/profiles). Runs may also draw the load of the
 * machine's other work, which then stretches wall time and the waits as it
 * did in a busy recording (BUSY). Used by `npm run bench -- --only power-sim`
 * and by compare's statistics tests.
 */

/** A standard normal draw (Box-Muller) from uniform draws in [0, 1). */
function normalDraw(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export interface SimMetric {
  name: string;
  median: number;
  /** Log-scale noise (0.02 is about 2% spread). */
  sigma: number;
  /** Share of the noise that comes from the shared per-run factor. */
  shared?: number;
  /** Probability that a run shows 0 instead (idle metric, e.g. I/O of a CPU workload). */
  zeroProb?: number;
  /** Values are counts. */
  integer?: boolean;
  /**
   * Change of ln(value) per percentage point of the machine's other work
   * (`host.other_busy_pct`), when runs are drawn with a load: a busy
   * machine stretches the run and its waits. `sigma` is then the noise left
   * around that line.
   */
  loadSlope?: number;
}

export const REALISTIC: SimMetric[] = [
  { name: 'wall_ns', median: 1e9, sigma: 0.02, shared: 0.8 },
  { name: 'cpu_ns', median: 1.9e9, sigma: 0.02, shared: 0.8 },
  { name: 'sched.runq_wait_ns', median: 2e7, sigma: 0.4, shared: 0.6 },
  { name: 'sched.runq_p50_us', median: 8, sigma: 0.3, shared: 0.3 },
  { name: 'sched.runq_p99_us', median: 4000, sigma: 0.5, shared: 0.5 },
  { name: 'sched.switches', median: 400, sigma: 0.2, shared: 0.5, integer: true },
  { name: 'futex.wait_ns', median: 3e8, sigma: 0.1, shared: 0.7 },
  { name: 'futex.waits', median: 2000, sigma: 0.3, shared: 0.4, integer: true },
  { name: 'futex.wait_p99_us', median: 30, sigma: 0.8, shared: 0.2 },
  { name: 'io.wait_ns', median: 1e6, sigma: 0.5, zeroProb: 0.9 },
  { name: 'io.ios', median: 10, sigma: 0.3, zeroProb: 0.9, integer: true },
  { name: 'io.lat_p99_us', median: 300, sigma: 0.6, zeroProb: 0.9 },
  { name: 'psi.cpu_some_us', median: 4e4, sigma: 1.0, shared: 0.5 },
  { name: 'psi.memory_some_us', median: 0, sigma: 0, zeroProb: 1 },
  { name: 'psi.io_some_us', median: 1e4, sigma: 1.0, zeroProb: 0.8 },
];

/** The run's load, carried beside its metrics as a recording carries it (not a metric). */
export const LOAD = 'host.other_busy_pct';

/**
 * A busy shared machine: the 2-thread mutex recorded with the load of each
 * run (bench/data/mutex-2-threads-load.json). The time totals follow the
 * load as they did there (slope of ln(value) per point of other work) with
 * the spread they kept around that line; the other metrics as REALISTIC.
 * Its medians are those at no other work.
 */
const BUSY_FIT: Record<string, Pick<SimMetric, 'sigma' | 'loadSlope'>> = {
  wall_ns: { sigma: 0.1, loadSlope: 0.0154 },
  cpu_ns: { sigma: 0.05, loadSlope: 0 },
  'futex.wait_ns': { sigma: 0.11, loadSlope: 0.0158 },
  'sched.runq_wait_ns': { sigma: 0.4, loadSlope: 0.0581 },
};
export const BUSY: SimMetric[] = REALISTIC.map((m) => ({ ...m, ...BUSY_FIT[m.name] }));

export interface SimOptions {
  runs: number;
  /** Multiply a metric's median in these runs (the injected regression). */
  factor?: Record<string, number>;
  /** Probability that a run meets a noisy neighbour (every shared-noise metric x1.5..3). */
  outlierProb?: number;
  /** Draws the load of a run (percent of the CPUs busy with other work); each run then carries it as LOAD. */
  load?: () => number;
}

export function simulateRuns(metrics: readonly SimMetric[], random: () => number, opts: SimOptions): Array<Record<string, number>> {
  const out: Array<Record<string, number>> = [];
  for (let r = 0; r < opts.runs; r++) {
    const z = normalDraw(random);
    const outlier = random() < (opts.outlierProb ?? 0.05) ? 1.5 + 1.5 * random() : 1;
    const run: Record<string, number> = {};
    const load = opts.load?.();
    if (load !== undefined) run[LOAD] = load;
    for (const m of metrics) {
      if (m.zeroProb !== undefined && random() < m.zeroProb) {
        run[m.name] = 0;
        continue;
      }
      const shared = m.shared ?? 0;
      const e = shared * z + Math.sqrt(1 - shared * shared) * normalDraw(random);
      const stretch = load === undefined ? 1 : Math.exp((m.loadSlope ?? 0) * load);
      let v = m.median * (opts.factor?.[m.name] ?? 1) * stretch * Math.exp(m.sigma * e) * (shared > 0 ? outlier : 1);
      if (m.integer) v = Math.round(v);
      run[m.name] = v;
    }
    out.push(run);
  }
  return out;
}
