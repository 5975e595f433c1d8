/** The power study's machinery, on a few trials: the designs it compares and its tables (the figures come from the benchmark). */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bestPower, gateFails, loadRecordings, runsForPower, spreads } from '../../bench/phases/power-noise.js';
import { DESIGNS, flags, FACTORS, powerTables, RUNS, TARGETS, type PowerResult } from '../../bench/phases/power.js';
import { analyse, failsGate } from '../../src/compare/analyse.js';
import { PRIMARY_METRICS } from '../../src/compare/select.js';
import { metricInfo } from '../../src/record/metrics.js';
import { bhAdjust, holmAdjust, taroneEligible } from '../../src/stats/multiple.js';
import { rankSumTest } from '../../src/stats/rank-sum.js';
import { seededRandom } from '../../src/stats/rng.js';
import { trimmedTest } from '../../src/stats/t-test.js';
import { BUSY, LOAD, REALISTIC, simulateRuns } from '../helpers/simulate.js';

const lib = {
  analyse,
  failsGate,
  PRIMARY_METRICS,
  metricInfo,
  bhAdjust,
  holmAdjust,
  taroneEligible,
  rankSumTest,
  trimmedTest,
  seededRandom,
};

describe('power study', () => {
  it('at 5 runs a side a 2x wall time is flagged by tuner and not by the rank test with Holm over 15 metrics', () => {
    const random = seededRandom(70_005);
    const f = flags(
      lib,
      simulateRuns(REALISTIC, random, { runs: 5 }),
      simulateRuns(REALISTIC, random, { runs: 5, factor: { wall_ns: 2 } }),
      50,
    );
    expect(f.tuner.regressed.has('wall_ns')).toBe(true);
    expect(f.tuner.gate.has('wall_ns')).toBe(true);
    expect(f['rank+holm'].regressed.size).toBe(0);
  });

  it('the design before (no wait share) is computed on the same runs: it misses a futex wait doubled under a shared machine factor', () => {
    // Whole runs stretched by a busy machine, NEW's futex wait per second of wall time doubled.
    const machine = [1, 1.6, 0.8, 1.3, 2.2, 1.9, 0.9, 1.2, 2.4, 1.05];
    const sim = simulateRuns(REALISTIC, seededRandom(5), { runs: 10 });
    const runs = sim.map((r, i) => ({
      ...r,
      wall_ns: 1e9 * machine[i]!,
      'futex.wait_ns': (i < 5 ? 3e8 : 6e8) * machine[i]! * (1 + 0.01 * (i % 3)),
    }));
    const f = flags(lib, runs.slice(0, 5), runs.slice(5), 50);
    expect(f.tuner.gate.has('futex.wait_ns')).toBe(true);
    expect(f.before.regressed.has('futex.wait_ns')).toBe(false);
  });

  it('renders a table per changed metric, the false alarms and the design comparison', () => {
    const zero = Object.fromEntries(DESIGNS.map((d) => [d, 0])) as Record<(typeof DESIGNS)[number], number>;
    const r: PowerResult = {
      trials: 10,
      nullComparisons: 10,
      cells: RUNS.flatMap((runs) =>
        TARGETS.flatMap((metric) =>
          FACTORS.map((factor) => ({
            metric,
            runs,
            factor,
            trials: 10,
            regressed: { ...zero, tuner: factor >= 2 ? 10 : 0 },
            gate: { ...zero, tuner: factor >= 2 ? 10 : 1 },
          })),
        ),
      ),
      falseAlarms: RUNS.map((runs) => ({ runs, comparisons: 10, regressed: zero, gate: zero, first20Regressed: 0, first20Gate: 0 })),
      reliable: RUNS.flatMap((runs) => TARGETS.map((metric) => ({ metric, runs, factor: 2, gate: runs >= 10 ? 1.5 : null }))),
      seconds: 1,
    };
    const t = powerTables(r);
    expect(t).toHaveLength(TARGETS.length + 2);
    expect(t[0]!.rows[1]).toEqual(['5', '0% (10%)', '0% (10%)', '0% (10%)', '100% (100%)', '100% (100%)']);
    expect(t[0]!.notes![0]).toMatch(/5 runs 2x/);
    expect(t[0]!.notes![1]).toMatch(/5 runs none up to 3x, 10 runs \+50%/);
    expect(t.at(-1)!.rows.map((row) => row[0])).toHaveLength(DESIGNS.length);
  });
});

describe('the noise of real runs', () => {
  it('the best power any test could have: a quiet metric reaches it with 5 runs, a noisy one does not', () => {
    expect(bestPower(0.05, 2, 5)).toBeGreaterThan(0.99);
    expect(bestPower(0.4, 2, 5)).toBeLessThan(0.8);
    expect(bestPower(0.4, 2, 5)).toBeGreaterThan(0.6);
    // More runs, more power; the runs for 95% are where the bound crosses it.
    expect(bestPower(0.4, 2, 10)).toBeGreaterThan(bestPower(0.4, 2, 5));
    const n = runsForPower(0.4, 2);
    expect(bestPower(0.4, 2, n)).toBeGreaterThanOrEqual(0.95);
    expect(bestPower(0.4, 2, n - 1)).toBeLessThan(0.95);
  });

  it('reads the kept recordings and measures their spread on the scale compare tests', () => {
    const recs = loadRecordings(fileURLToPath(new URL('../../bench/data', import.meta.url)));
    expect(recs.length).toBeGreaterThanOrEqual(2);
    for (const r of recs) expect(r.runs.length).toBeGreaterThanOrEqual(20);
    const s = spreads(lib, recs);
    const futex = s.find((x) => x.recording === 'mutex-2-threads' && x.metric === 'futex.wait_ns')!;
    expect(futex.scale).toBe('share');
    expect(futex.sd).toBeGreaterThan(0);
    expect(s.find((x) => x.metric === 'wall_ns')!.scale).toBe('log');
  });
});

describe('the busy machine simulation', () => {
  const recs = loadRecordings(fileURLToPath(new URL('../../bench/data', import.meta.url)));
  const loads = recs.flatMap((r) => r.load ?? []).filter((x): x is number => typeof x === 'number');
  const draw = (random: () => number) => (): number => loads[Math.floor(random() * loads.length)]!;

  it('stretches the time totals with the load each run draws, which the runs carry', () => {
    const random = seededRandom(1);
    const runs = simulateRuns(BUSY, random, { runs: 200, load: draw(random), outlierProb: 0 });
    const quiet = runs.filter((r) => r[LOAD]! < 15);
    const busy = runs.filter((r) => r[LOAD]! > 50);
    expect(quiet.length).toBeGreaterThan(20);
    expect(busy.length).toBeGreaterThan(20);
    const med = (rs: typeof runs, m: string): number => rs.map((r) => r[m]!).sort((a, b) => a - b)[rs.length >> 1]!;
    // About e^(0.058 x 45) = 14x more run-queue wait on the busy runs, CPU time as it was.
    expect(med(busy, 'sched.runq_wait_ns') / med(quiet, 'sched.runq_wait_ns')).toBeGreaterThan(6);
    expect(med(busy, 'cpu_ns') / med(quiet, 'cpu_ns')).toBeLessThan(1.1);
  });

  it('a 2x run-queue wait at 20 runs a side: the gate fails on it with the load-adjusted test, rarely without', () => {
    let tuner = 0;
    let noLoad = 0;
    for (let i = 0; i < 10; i++) {
      const random = seededRandom(110_000 + 20_000 + i);
      const load = draw(random);
      const f = gateFails(
        lib,
        BUSY.map((m) => m.name),
        simulateRuns(BUSY, random, { runs: 20, load }),
        simulateRuns(BUSY, random, { runs: 20, load, factor: { 'sched.runq_wait_ns': 2 } }),
        50,
      );
      if (f.tuner.has('sched.runq_wait_ns')) tuner++;
      if (f.before.has('sched.runq_wait_ns')) noLoad++;
    }
    expect(tuner).toBeGreaterThanOrEqual(7);
    expect(noLoad).toBeLessThanOrEqual(3);
  });
});
