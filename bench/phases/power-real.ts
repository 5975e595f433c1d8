/**
 * compare on recordings of real workloads (root; loads BPF): the mutex storm
 * of 2 threads against 8, 5 runs each, through the CLI as a CI job runs it;
 * then the 2-thread workload recorded against itself and against twice its
 * work with record --alternate (as the CI workflow records), cut into
 * disjoint comparisons: false alarms at 5 and 10 runs a side, and a 2x
 * change (twice the work) at 5.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CompareLib } from '../lib/compare-api.js';
import { CACHE, CLI, ROOT } from '../lib/paths.js';
import { run, runLoose } from '../lib/spawn.js';

/** The workload: THREADS share ITERATIONS turns of a mutex (same work for any THREADS). */
const MUTEX_ARGS = (threads: number, iterations: number): string[] => [String(threads), String(iterations), '2000', '30000'];

export interface StormResult {
  base: string;
  new: string;
  exitCode: number | undefined;
  headline: string;
  verdicts: Array<{ metric: string; base: number | null; new: number | null; change: number | null; verdict: string; reason: string }>;
}

export interface RealResult {
  storm: StormResult;
  /** Comparisons of identical recordings that failed the gate / had a regression, out of `comparisons`. */
  identical: Array<{ runs: number; comparisons: number; gate: number; regressed: number; flaggedMetrics: string[] }>;
  /** Comparisons at 5 runs a side of the workload against twice its work: wall time and futex wait flagged. */
  doubled: { runs: number; comparisons: number; wall: number; futexWait: number; gate: number };
  poolRuns: number;
  seconds: number;
}

async function mutexBinary(): Promise<string> {
  const src = path.join(ROOT, 'test', 'workloads', 'mutex.c');
  const bin = path.join(CACHE, 'mutex');
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
    mkdirSync(CACHE, { recursive: true });
    await run('cc', ['-O2', '-pthread', '-Wall', '-o', bin, src]);
  }
  return bin;
}

async function record(out: string, bin: string, threads: number, iterations: number, repeat: number): Promise<void> {
  await run(
    'node',
    [CLI, 'record', '--repeat', String(repeat), '--warmup', '1', '--quiet', '-o', out, '--', bin, ...MUTEX_ARGS(threads, iterations)],
    {
      timeoutMs: 900_000,
    },
  );
}

/** BASE and NEW run by run in alternation, one recording (record --alternate), as the CI workflow records them. */
async function recordAlternated(base: string, next: string, bin: string, iterations: [number, number], repeat: number): Promise<void> {
  await run(
    'node',
    [
      CLI,
      'record',
      '--repeat',
      String(repeat),
      '--warmup',
      '1',
      '--quiet',
      '-o',
      base,
      '--alternate',
      next,
      '--',
      bin,
      ...MUTEX_ARGS(2, iterations[0]),
      '::',
      bin,
      ...MUTEX_ARGS(2, iterations[1]),
    ],
    { timeoutMs: 900_000 },
  );
}

type Runs = Array<Record<string, number | null>>;
/** A profile's runs and the load on the machine during each (host.other_busy_pct). */
interface Side {
  runs: Runs;
  load: Array<number | null>;
}
const metricsOf = (file: string): Side => {
  const runs = (
    JSON.parse(readFileSync(file, 'utf8')) as { runs: Array<{ metrics: Record<string, number | null>; details: Record<string, unknown> }> }
  ).runs;
  const load = (r: (typeof runs)[number]): number | null => {
    const v = r.details['host.other_busy_pct'];
    return typeof v === 'number' ? v : null;
  };
  return { runs: runs.map((r) => r.metrics), load: runs.map(load) };
};

export async function powerReal(lib: CompareLib, opts: { quick: boolean; log: (s: string) => void }): Promise<RealResult> {
  const t0 = performance.now();
  const dir = path.join(CACHE, 'power');
  mkdirSync(dir, { recursive: true });
  const bin = await mutexBinary();

  // 1. The storm, as a CI user runs it.
  const base = path.join(dir, 'storm-2.json');
  const next = path.join(dir, 'storm-8.json');
  opts.log('power: recording the mutex storm, 2 threads then 8, 5 runs each');
  await record(base, bin, 2, 20000, 5);
  await record(next, bin, 8, 20000, 5);
  const cmp = await runLoose('node', [CLI, 'compare', base, next, '--json']);
  const parsed = JSON.parse(cmp.stdout) as {
    metrics: Array<{
      metric: string;
      base: { median: number | null };
      new: { median: number | null };
      ratio: number | null;
      verdict: string;
      reason: string;
    }>;
  };
  const text = await runLoose('node', [CLI, 'compare', base, next]);
  const storm: StormResult = {
    base,
    new: next,
    exitCode: cmp.exitCode,
    headline: text.stdout.trim().split('\n').at(-1) ?? '',
    verdicts: parsed.metrics.map((m) => ({
      metric: m.metric,
      base: m.base.median,
      new: m.new.median,
      change: m.ratio,
      verdict: m.verdict,
      reason: m.reason,
    })),
  };
  opts.log(`power: storm: exit ${cmp.exitCode}; ${storm.headline}`);

  // 2. Identical workloads recorded in alternation (record --alternate), and the workload against twice its work.
  const poolRuns = opts.quick ? 25 : 100;
  const sameA = path.join(dir, 'same-a.json');
  const sameB = path.join(dir, 'same-b.json');
  const dblA = path.join(dir, 'double-a.json');
  const dblB = path.join(dir, 'double-b.json');
  opts.log(
    `power: recording the 2-thread workload against itself, and against twice its work, ${poolRuns} runs a side each, in alternation`,
  );
  await recordAlternated(sameA, sameB, bin, [20000, 20000], poolRuns);
  await recordAlternated(dblA, dblB, bin, [20000, 40000], poolRuns);
  const same = { a: metricsOf(sameA), b: metricsOf(sameB) };
  const dbl = { a: metricsOf(dblA), b: metricsOf(dblB) };
  const names = [...new Set(same.a.runs.flatMap((r) => Object.keys(r)))];
  const analyse = (b: Side, n: Side, from: number, runs: number): ReturnType<CompareLib['analyse']> =>
    lib.analyse(names, b.runs.slice(from, from + runs), n.runs.slice(from, from + runs), {
      alpha: 0.05,
      threshold: 0.1,
      floor: (m) => lib.metricInfo(m).floor,
      gated: lib.PRIMARY_METRICS.filter((m) => names.includes(m)),
      load: { base: b.load.slice(from, from + runs), new: n.load.slice(from, from + runs) },
    });

  const identical = [5, 10].map((runs) => {
    const comparisons = Math.floor(Math.min(same.a.runs.length, same.b.runs.length) / runs);
    let gate = 0;
    let regressed = 0;
    const flaggedMetrics: string[] = [];
    for (let i = 0; i < comparisons; i++) {
      const rows = analyse(same.a, same.b, runs * i, runs);
      if (rows.some((r) => lib.failsGate(r))) gate++;
      if (rows.some((r) => r.gated && r.verdict === 'regressed')) regressed++;
      for (const r of rows) if (lib.failsGate(r)) flaggedMetrics.push(`${r.metric} (${r.verdict})`);
    }
    return { runs, comparisons, gate, regressed, flaggedMetrics };
  });
  const comparisons = Math.floor(Math.min(dbl.a.runs.length, dbl.b.runs.length) / 5);
  const doubled = { runs: 5, comparisons, wall: 0, futexWait: 0, gate: 0 };
  for (let i = 0; i < comparisons; i++) {
    const rows = analyse(dbl.a, dbl.b, 5 * i, 5);
    if (rows.find((r) => r.metric === 'wall_ns')?.verdict === 'regressed') doubled.wall++;
    if (rows.find((r) => r.metric === 'futex.wait_ns')?.verdict === 'regressed') doubled.futexWait++;
    if (rows.some((r) => lib.failsGate(r))) doubled.gate++;
  }
  return { storm, identical, doubled, poolRuns, seconds: (performance.now() - t0) / 1000 };
}
