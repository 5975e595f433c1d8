/**
 * compare on recordings of real workloads (root; loads BPF): the mutex storm
 * of 2 threads against 8, 5 runs each, through the CLI as a CI job runs it;
 * then pools of identical recordings cut into disjoint comparisons: false
 * alarms at 5 and 10 runs a side, and a 2x change (twice the work) at 5.
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

type Runs = Array<Record<string, number | null>>;
const metricsOf = (file: string): Runs =>
  (JSON.parse(readFileSync(file, 'utf8')) as { runs: Array<{ metrics: Record<string, number | null> }> }).runs.map((r) => r.metrics);

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

  // 2. Pools of identical recordings, and of twice the work.
  const poolRuns = opts.quick ? 100 : 400;
  const pool = path.join(dir, 'pool-same.json');
  const doubledPool = path.join(dir, 'pool-double.json');
  opts.log(`power: recording ${poolRuns} runs of the 2-thread workload and ${poolRuns / 4} of twice its work`);
  await record(pool, bin, 2, 20000, poolRuns);
  await record(doubledPool, bin, 2, 40000, poolRuns / 4);
  const same = metricsOf(pool);
  const dbl = metricsOf(doubledPool);
  const names = [...new Set(same.flatMap((r) => Object.keys(r)))];
  const analyse = (b: Runs, n: Runs): ReturnType<CompareLib['analyse']> =>
    lib.analyse(names, b, n, {
      alpha: 0.05,
      threshold: 0.1,
      floor: (m) => lib.metricInfo(m).floor,
      gated: lib.PRIMARY_METRICS.filter((m) => names.includes(m)),
    });

  const identical = [5, 10].map((runs) => {
    const comparisons = Math.min(20, Math.floor(same.length / (2 * runs)));
    let gate = 0;
    let regressed = 0;
    const flaggedMetrics: string[] = [];
    for (let i = 0; i < comparisons; i++) {
      const at = 2 * runs * i;
      const rows = analyse(same.slice(at, at + runs), same.slice(at + runs, at + 2 * runs));
      if (rows.some((r) => lib.failsGate(r))) gate++;
      if (rows.some((r) => r.gated && r.verdict === 'regressed')) regressed++;
      for (const r of rows) if (lib.failsGate(r)) flaggedMetrics.push(`${r.metric} (${r.verdict})`);
    }
    return { runs, comparisons, gate, regressed, flaggedMetrics };
  });
  const comparisons = Math.min(20, Math.floor(dbl.length / 5));
  const doubled = { runs: 5, comparisons, wall: 0, futexWait: 0, gate: 0 };
  for (let i = 0; i < comparisons; i++) {
    const rows = analyse(same.slice(10 * i, 10 * i + 5), dbl.slice(5 * i, 5 * i + 5));
    if (rows.find((r) => r.metric === 'wall_ns')?.verdict === 'regressed') doubled.wall++;
    if (rows.find((r) => r.metric === 'futex.wait_ns')?.verdict === 'regressed') doubled.futexWait++;
    if (rows.some((r) => lib.failsGate(r))) doubled.gate++;
  }
  return { storm, identical, doubled, poolRuns, seconds: (performance.now() - t0) / 1000 };
}
