/**
 * `npm run bench -- --only power-sim` (the simulation, and compare on the
 * real runs kept in bench/data/; no root, several minutes) and `--only power` (recordings of real workloads; root, loads
 * BPF: run it under the machine lock): prints the tables and writes
 * bench/power-results.md (the simulation) or bench/power-real-results.md.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { compareLib } from '../lib/compare-api.js';
import { BENCH_SRC, CLI } from '../lib/paths.js';
import { toMarkdown, toText, type Table } from '../lib/table.js';
import { powerStudy, powerTables } from './power.js';
import { powerReal, type RealResult } from './power-real.js';
import { loadRecordings, realPower, realPowerTables } from './power-noise.js';
import { busyStudy, busyTables } from './power-busy.js';
import { existsSync } from 'node:fs';

export const POWER_PHASES = ['power', 'power-sim'] as const;
export type PowerPhase = (typeof POWER_PHASES)[number];

const fmt = (v: number | null, metric: string): string => {
  if (v === null) return '-';
  if (metric.endsWith('_ns')) return v >= 1e9 ? `${(v / 1e9).toFixed(2)} s` : `${(v / 1e6).toFixed(1)} ms`;
  if (metric.endsWith('_us')) return `${v.toFixed(0)} µs`;
  return String(Math.round(v));
};
const change = (r: number | null): string =>
  r === null ? '-' : Number.isFinite(r) ? `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(0)}%` : 'from 0';

function realTables(r: RealResult): Table[] {
  return [
    {
      title: `compare on real recordings: mutex storm, 2 threads (BASE) vs 8 threads (NEW), tuner record --repeat 5 --warmup 1 each; exit status ${r.storm.exitCode}`,
      head: ['metric', 'BASE', 'NEW', 'change', 'verdict'],
      rows: r.storm.verdicts.map((v) => [v.metric, fmt(v.base, v.metric), fmt(v.new, v.metric), change(v.change), v.verdict]),
      notes: [r.storm.headline],
    },
    {
      title: `compare on real recordings: the mutex workload (2 threads) recorded against itself, and against twice its work, with record --alternate (${r.poolRuns} runs a side each), cut into disjoint comparisons`,
      head: ['comparison', 'runs a side', 'comparisons', 'gate failed', 'any regressed'],
      rows: [
        ...r.identical.map((x) => ['identical workloads', String(x.runs), String(x.comparisons), String(x.gate), String(x.regressed)]),
        [
          '2x work (gate failed)',
          String(r.doubled.runs),
          String(r.doubled.comparisons),
          String(r.doubled.gate),
          `wall ${r.doubled.wall}, futex wait ${r.doubled.futexWait}`,
        ],
      ],
      notes: r.identical.flatMap((x) => (x.flaggedMetrics.length ? [`${x.runs} runs: flagged ${x.flaggedMetrics.join(', ')}`] : [])),
    },
  ];
}

export async function powerPhase(opts: { sim: boolean; real: boolean; quick: boolean; log: (s: string) => void }): Promise<void> {
  const started = new Date();
  const write = (name: string, header: string, tables: Table[]): void => {
    process.stdout.write([header, ...tables.map(toText)].join('\n\n') + '\n');
    writeFileSync(path.join(BENCH_SRC, name), [header, ...tables.map(toMarkdown)].join('\n\n') + '\n');
    opts.log(`wrote bench/${name}`);
  };
  if (opts.sim) {
    const t0 = performance.now();
    const recs = loadRecordings();
    const real = realPower(await compareLib(), recs, { trials: opts.quick ? 20 : 100, log: opts.log });
    const sim = await powerStudy({ trials: opts.quick ? 20 : 100, nullComparisons: opts.quick ? 40 : 200, log: opts.log });
    const loads = recs.flatMap((r) => r.load ?? []).filter((x): x is number => typeof x === 'number');
    const busy = busyStudy(await compareLib(), loads, {
      trials: opts.quick ? 20 : 100,
      nullComparisons: opts.quick ? 40 : 200,
      log: opts.log,
    });
    write(
      'power-results.md',
      `${started.toISOString()}: compare power study, simulation and real runs${opts.quick ? ' (QUICK)' : ''}; ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      [...realPowerTables(real, recs), ...powerTables(sim), ...busyTables(busy)],
    );
  }
  if (opts.real) {
    if (process.getuid?.() !== 0) throw new Error('the power phase records real workloads (BPF): run it as root, or use --only power-sim');
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: npm run build');
    const real = await powerReal(await compareLib(), { quick: opts.quick, log: opts.log });
    write(
      'power-real-results.md',
      `${new Date().toISOString()}: compare on real recordings${opts.quick ? ' (QUICK)' : ''}; ${real.seconds.toFixed(0)} s`,
      realTables(real),
    );
  }
}
