/**
 * compare's statistics on simulated comparisons (seeded, so the counts are
 * reproducible): the targets at 20 comparisons each, and the
 * verdicts a CI user meets at 3 to 5 runs. The full power study (flag rate
 * by change and run count) is a benchmark: `npm run bench -- --only power-sim`.
 */
import { describe, expect, it } from 'vitest';
import { analyse, failsGate } from '../../src/compare/analyse.js';
import { PRIMARY_METRICS } from '../../src/compare/select.js';
import { metricInfo } from '../../src/record/metrics.js';
import { REALISTIC, seededRandom, simulateRuns } from '../helpers/simulate.js';

const names = REALISTIC.map((m) => m.name);
// The bootstrap interval only separates "unchanged" from "too noisy"; few resamples keep many comparisons fast.
const opts = { alpha: 0.05, threshold: 0.1, floor: (m: string) => metricInfo(m).floor, resamples: 100, gated: PRIMARY_METRICS };

function compareSim(seed: number, runs: number, factor?: Record<string, number>) {
  const random = seededRandom(seed);
  const base = simulateRuns(REALISTIC, random, { runs });
  const next = simulateRuns(REALISTIC, random, { runs, factor });
  return analyse(names, base, next, opts);
}
const gateFails = (seed: number, runs: number, factor?: Record<string, number>): boolean =>
  compareSim(seed, runs, factor).some((r) => failsGate(r));

describe('compare statistics on simulated runs', { timeout: 60_000 }, () => {
  it.each([5, 10])('identical workloads, %i runs a side: the gate fails in at most 1 of 20 comparisons', (runs) => {
    const failed = Array.from({ length: 20 }, (_, i) => gateFails(1000 * runs + i, runs)).filter(Boolean).length;
    expect(failed).toBeLessThanOrEqual(1);
  });

  it('a 2x wall time at 5 runs a side is flagged regressed in at least 19 of 20 comparisons', () => {
    const hits = Array.from({ length: 20 }, (_, i) => compareSim(4000 + i, 5, { wall_ns: 2 })).filter(
      (rows) => rows.find((r) => r.metric === 'wall_ns')!.verdict === 'regressed',
    ).length;
    expect(hits).toBeGreaterThanOrEqual(19);
  });

  it('a 5% change is never flagged (inside the threshold)', () => {
    const hits = Array.from({ length: 20 }, (_, i) => compareSim(4500 + i, 10, { wall_ns: 1.05, cpu_ns: 1.05 })).filter((rows) =>
      rows.some((r) => failsGate(r)),
    ).length;
    expect(hits).toBeLessThanOrEqual(1);
  });

  it('a change of one metric flags that metric, not the others', () => {
    for (let i = 0; i < 20; i++) {
      const rows = compareSim(3000 + i, 10, { 'futex.wait_ns': 3 });
      expect(rows.filter((r) => r.gated && r.verdict === 'regressed' && r.metric !== 'futex.wait_ns').map((r) => r.metric)).toEqual([]);
    }
  });

  it('only gated metrics fail the gate; the rest are reported with their verdicts', () => {
    const rows = compareSim(77, 8, { 'sched.switches': 4 });
    const sw = rows.find((r) => r.metric === 'sched.switches')!;
    expect(sw.gated).toBe(false);
    expect(sw.verdict).toBe('regressed');
    expect(failsGate(sw)).toBe(false);
  });
});

describe('verdicts at small run counts', () => {
  const fixed = (values: number[]) => values.map((v) => ({ wall_ns: v * 1e6, cpu_ns: 1e8 }));
  const run = (b: number[], n: number[]) =>
    analyse(['wall_ns', 'cpu_ns'], fixed(b), fixed(n), { ...opts, resamples: 500 }).find((r) => r.metric === 'wall_ns')!;

  it('3 runs a side, every NEW run 2x and spread wide: needs-more-runs, with a run count, failing the gate', () => {
    const r = run([100, 180, 40], [250, 200, 900]);
    expect(r.verdict).toBe('needs-more-runs');
    expect(r.direction).toBe('worse');
    expect(r.runs_needed).toBeGreaterThan(3);
    expect(r.reason).toMatch(new RegExp(`--repeat ${r.runs_needed}`));
    expect(failsGate(r)).toBe(true);
    expect(failsGate(r, true)).toBe(false);
  });

  it('3 runs a side, a clean 2x: regressed', () => {
    expect(run([100, 101, 99], [200, 202, 199]).verdict).toBe('regressed');
  });

  it('5 runs a side, two NEW runs wildly high: still regressed (the rank test sees every run worse)', () => {
    expect(run([100, 101, 99, 100.5, 99.5], [200, 201, 199, 600, 900]).verdict).toBe('regressed');
  });

  it('5 runs a side, runs overlapping across the threshold: too-noisy, not needs-more-runs', () => {
    const r = run([100, 130, 80, 120, 90], [110, 160, 90, 140, 100]);
    expect(r.verdict).toBe('too-noisy');
    expect(failsGate(r)).toBe(false);
  });

  it('what the spread allows: runs spread wide (0.2 to 5x) cannot reliably catch a 2x change at 5 runs; tight runs can', () => {
    const wide = run([20, 100, 500, 60, 250], [30, 150, 400, 80, 200]);
    expect(wide.verdict).toBe('too-noisy');
    expect(wide.reach!.sd).toBeGreaterThan(0.5);
    expect(wide.reach!.power_2x).toBeLessThan(0.5);
    expect(wide.reach!.runs_for_2x).toBeGreaterThan(20);
    const tight = run([100, 101, 99, 100.5, 99.5], [101, 100, 100.5, 99, 101]);
    expect(tight.reach!.power_2x).toBeGreaterThan(0.99);
    expect(tight.reach!.runs_for_2x).toBe(2);
  });

  it('5 runs a side, within 2%: unchanged', () => {
    expect(run([100, 101, 99, 100.5, 99.5], [101, 100, 100.5, 99, 101]).verdict).toBe('unchanged');
  });
});

describe("wait totals are tested as a share of the run's wall time", () => {
  // A busy machine stretches a whole run: wall time and futex wait move together by m.
  const jitter = [1, 1.02, 0.98, 1.01, 0.99];
  const runs = (machine: number[], waitPerWall: number) =>
    machine.map((m, i) => ({ wall_ns: 100e6 * m, cpu_ns: 150e6, 'futex.wait_ns': waitPerWall * 100e6 * m * jitter[i]! }));
  const base = runs([1, 1.6, 0.8, 1.3, 2.2], 0.8);
  const next = runs([1.9, 0.9, 1.2, 2.4, 1.05], 1.6);
  const futex = (o: Partial<typeof opts> & { waitShare?: boolean } = {}) =>
    analyse(['wall_ns', 'cpu_ns', 'futex.wait_ns'], base, next, { ...opts, resamples: 500, ...o }).find(
      (r) => r.metric === 'futex.wait_ns',
    )!;

  it('twice the wait per second of the run, under a machine factor that swamps the totals: regressed', () => {
    const r = futex();
    expect(r.test!.t_scale).toBe('log-share-of-wall');
    expect(r.separated).toBeNull();
    expect(r.verdict).toBe('regressed');
  });

  it('the same runs with the wait tested on its own log values: not regressed', () => {
    const r = futex({ waitShare: false });
    expect(r.test!.t_scale).toBe('log');
    expect(r.verdict).not.toBe('regressed');
  });

  it('every wait total is tested so, run-queue and I/O wait too; wall and CPU time on their own logs', () => {
    const both = (rs: typeof base) => rs.map((r) => ({ ...r, 'sched.runq_wait_ns': r['futex.wait_ns'], 'io.wait_ns': r['futex.wait_ns'] }));
    const rows = analyse(['wall_ns', 'cpu_ns', 'sched.runq_wait_ns', 'io.wait_ns'], both(base), both(next), { ...opts, resamples: 100 });
    expect(Object.fromEntries(rows.map((r) => [r.metric, r.test!.t_scale]))).toEqual({
      wall_ns: 'log',
      cpu_ns: 'log',
      'sched.runq_wait_ns': 'log-share-of-wall',
      'io.wait_ns': 'log-share-of-wall',
    });
  });

  it('without a wall time in every run the log values are tested', () => {
    const strip = (rs: typeof base) => rs.map((r, i) => (i === 2 ? { ...r, wall_ns: null } : r));
    const r = analyse(['futex.wait_ns'], strip(base), strip(next), { ...opts, resamples: 100 })[0]!;
    expect(r.test!.t_scale).toBe('log');
  });
});

describe('the load on the machine during each run (host.other_busy_pct) as a covariate', () => {
  // The run-queue wait of a workload with no more threads than CPUs: e^(0.06 x load) ms, the neighbours' doing.
  const loads = { base: [2, 30, 8, 60, 15], new: [25, 5, 70, 12, 40] };
  const jitter = [1, 1.05, 0.95, 1.02, 0.98];
  const runs = (load: number[], factor: number) =>
    load.map((u, i) => ({ wall_ns: 100e6, cpu_ns: 150e6, 'sched.runq_wait_ns': 1e6 * Math.exp(0.06 * u) * factor * jitter[i]! }));
  const row = (factor: number, load?: typeof loads) =>
    analyse(['wall_ns', 'cpu_ns', 'sched.runq_wait_ns'], runs(loads.base, 1), runs(loads.new, factor), {
      ...opts,
      resamples: 500,
      load,
    }).find((r) => r.metric === 'sched.runq_wait_ns')!;

  it('a 2x run-queue wait swamped by the load: not regressed without the load, regressed with it', () => {
    expect(row(2).verdict).not.toBe('regressed');
    const r = row(2, loads);
    expect(r.verdict).toBe('regressed');
    expect(r.test!.load!.slope).toBeCloseTo(0.06, 2);
    expect(r.test!.load!.p_regressed).toBeLessThan(0.001);
  });

  it('a 2x run-queue wait whose NEW runs met a quieter machine: medians lower, regressed at equal load, and the reason says so', () => {
    const quiet = { base: [40, 55, 62, 70, 48], new: [2, 8, 5, 12, 3] };
    const r = analyse(['wall_ns', 'cpu_ns', 'sched.runq_wait_ns'], runs(quiet.base, 1), runs(quiet.new, 2), {
      ...opts,
      resamples: 500,
      load: quiet,
    }).find((x) => x.metric === 'sched.runq_wait_ns')!;
    expect(r.ratio!).toBeLessThan(0.5);
    expect(r.test!.load!.ratio).toBeGreaterThan(1.8);
    expect(r.test!.load!.ratio).toBeLessThan(2.2);
    expect(r.verdict).toBe('regressed');
    expect(r.reason).toMatch(/at equal load/);
  });

  it('the same wait under different loads: not regressed with the load taken out', () => {
    const r = row(1, loads);
    expect(r.verdict).not.toBe('regressed');
    expect(r.test!.load!.p_regressed).toBeGreaterThan(0.5);
  });

  it('only wall time and wait totals are adjusted; a profile without load figures is not', () => {
    const rows = analyse(['wall_ns', 'cpu_ns', 'sched.runq_wait_ns'], runs(loads.base, 1), runs(loads.new, 1), { ...opts, load: loads });
    expect(rows.find((r) => r.metric === 'cpu_ns')!.test!.load).toBeNull();
    const partial = { base: loads.base, new: [25, null, 70, 12, 40] };
    expect(row(2, partial).test!.load).toBeNull();
  });
});
