/** The power study's machinery, on a few trials: the designs it compares and its tables (the figures come from the benchmark). */
import { describe, expect, it } from 'vitest';
import { DESIGNS, flags, FACTORS, powerTables, RUNS, TARGETS, type PowerResult } from '../../bench/phases/power.js';
import { analyse, failsGate } from '../../src/compare/analyse.js';
import { PRIMARY_METRICS } from '../../src/compare/select.js';
import { metricInfo } from '../../src/record/metrics.js';
import { bhAdjust, holmAdjust, taroneEligible } from '../../src/stats/multiple.js';
import { rankSumTest } from '../../src/stats/rank-sum.js';
import { seededRandom } from '../../src/stats/rng.js';
import { trimmedTest } from '../../src/stats/t-test.js';
import { REALISTIC, simulateRuns } from '../helpers/simulate.js';

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
            gate: factor >= 2 ? 10 : 1,
          })),
        ),
      ),
      falseAlarms: RUNS.map((runs) => ({ runs, comparisons: 10, regressed: zero, gate: 0, first20Regressed: 0, first20Gate: 0 })),
      reliable: RUNS.flatMap((runs) => TARGETS.map((metric) => ({ metric, runs, factor: 2 }))),
      seconds: 1,
    };
    const t = powerTables(r);
    expect(t).toHaveLength(TARGETS.length + 2);
    expect(t[0]!.rows[1]).toEqual(['5', '0% (10%)', '0% (10%)', '0% (10%)', '0% (10%)', '100% (100%)', '100% (100%)']);
    expect(t[0]!.notes![0]).toMatch(/5 runs 2x/);
  });
});
