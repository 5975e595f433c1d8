/**
 * compare on a simulated busy machine: every run draws the load of the
 * machine's other work from the busy recording (bench/data/, the 2-thread
 * mutex with the load of each run), and wall time and the wait totals
 * stretch with it as they did there (bench/lib/simulate.ts, BUSY). The
 * runs carry their load as a recording does, so compare's load-adjusted
 * test runs on them: how often a change is flagged, and how often identical
 * workloads fail the gate, with that test and without it.
 */
import type { CompareLib } from '../lib/compare-api.js';
import { BUSY, simulateRuns } from '../lib/simulate.js';
import { gateFails } from './power-noise.js';
import { factorLabel, pct, type Table } from '../lib/table.js';

export const BUSY_TARGETS = ['wall_ns', 'futex.wait_ns', 'sched.runq_wait_ns'] as const;
export const BUSY_FACTORS = [1.25, 1.5, 2, 3];
export const BUSY_RUNS = [5, 10, 20];
const NAMES = BUSY.map((m) => m.name);

export interface BusyCell {
  metric: string;
  runs: number;
  factor: number;
  trials: number;
  /** Trials whose gate failed on the metric: compare as built, and without the load-adjusted test. */
  tuner: number;
  noLoad: number;
}

export interface BusyNull {
  runs: number;
  comparisons: number;
  tuner: number;
  noLoad: number;
}

export interface BusyResult {
  trials: number;
  loads: { n: number; median: number; min: number; max: number };
  cells: BusyCell[];
  nulls: BusyNull[];
  seconds: number;
}

export function busyStudy(
  lib: CompareLib,
  loads: readonly number[],
  opts: { trials: number; nullComparisons: number; log: (s: string) => void },
): BusyResult {
  if (loads.length === 0) throw new Error('power: the busy simulation needs the loads of a recording (bench/data/*.json with "load")');
  const t0 = performance.now();
  const sorted = [...loads].sort((a, b) => a - b);
  const cells: BusyCell[] = [];
  const nulls: BusyNull[] = [];
  for (const runs of BUSY_RUNS) {
    const nul: BusyNull = { runs, comparisons: opts.nullComparisons, tuner: 0, noLoad: 0 };
    for (let i = 0; i < opts.nullComparisons; i++) {
      const random = lib.seededRandom(130_000 + 1000 * runs + i);
      const load = (): number => sorted[Math.floor(random() * sorted.length)]!;
      const f = gateFails(lib, NAMES, simulateRuns(BUSY, random, { runs, load }), simulateRuns(BUSY, random, { runs, load }), 200);
      if (f.tuner.size > 0) nul.tuner++;
      if (f.before.size > 0) nul.noLoad++;
    }
    nulls.push(nul);
    opts.log(`power: busy machine, identical workloads, ${runs} runs a side: ${nul.tuner} of ${nul.comparisons} fail the gate`);
    for (const metric of BUSY_TARGETS) {
      for (const factor of BUSY_FACTORS) {
        const cell: BusyCell = { metric, runs, factor, trials: opts.trials, tuner: 0, noLoad: 0 };
        for (let i = 0; i < opts.trials; i++) {
          const random = lib.seededRandom(110_000 + 1000 * runs + i);
          const load = (): number => sorted[Math.floor(random() * sorted.length)]!;
          const f = gateFails(
            lib,
            NAMES,
            simulateRuns(BUSY, random, { runs, load }),
            simulateRuns(BUSY, random, { runs, load, factor: { [metric]: factor } }),
            200,
          );
          if (f.tuner.has(metric)) cell.tuner++;
          if (f.before.has(metric)) cell.noLoad++;
        }
        cells.push(cell);
      }
      opts.log(`power: busy machine, ${metric}, ${runs} runs a side done`);
    }
  }
  return {
    trials: opts.trials,
    loads: { n: sorted.length, median: sorted[sorted.length >> 1]!, min: sorted[0]!, max: sorted.at(-1)! },
    cells,
    nulls,
    seconds: (performance.now() - t0) / 1000,
  };
}

export function busyTables(r: BusyResult): Table[] {
  const noise = (m: string): string => {
    const s = BUSY.find((x) => x.name === m)!;
    return `${s.sigma.toFixed(2)} around the load line, slope ${s.loadSlope ?? 0} per point`;
  };
  return [
    {
      title: `compare on a simulated busy machine (each run's load drawn from ${r.loads.n} recorded runs, ${r.loads.min}-${r.loads.max}% of the CPUs busy with other work, median ${r.loads.median}%): share of ${r.trials} comparisons failing the gate on the changed metric, compare as built (in parentheses: without the load-adjusted test)`,
      head: ['metric', 'runs a side', ...BUSY_FACTORS.map(factorLabel)],
      rows: BUSY_TARGETS.flatMap((metric) =>
        BUSY_RUNS.map((runs) => [
          metric,
          String(runs),
          ...BUSY_FACTORS.map((factor) => {
            const c = r.cells.find((x) => x.metric === metric && x.runs === runs && x.factor === factor)!;
            return `${pct(c.tuner, c.trials)} (${pct(c.noLoad, c.trials)})`;
          }),
        ]),
      ),
      notes: BUSY_TARGETS.map((m) => `${m}: log-noise ${noise(m)}`),
    },
    {
      title:
        'compare on a simulated busy machine: identical workloads, comparisons failing the gate, compare as built (without the load-adjusted test)',
      head: ['runs a side', 'comparisons', 'gate failed'],
      rows: r.nulls.map((n) => [String(n.runs), String(n.comparisons), `${n.tuner} (${n.noLoad})`]),
    },
  ];
}
