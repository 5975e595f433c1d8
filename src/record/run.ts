/**
 * One run of the workload: start it at the gate, aim the recording's probes
 * at its PID, open the gate, wait for it to exit (reading long runs every few
 * seconds), read the probes. Warm-up runs have no probes.
 */
import { TunerError } from '../errors.js';
import { sleep } from '../lifecycle/sleep.js';
import { readCpuTimes, type CpuTimes } from '../procfs/stat.js';
import { spawnGated, type Exit, type WorkloadOutput } from './gate.js';
import type { RecordProbes, RunProbe } from './probes.js';

export interface RunResult {
  /** 1-based; warm-up runs are numbered separately. */
  run: number;
  started: string;
  exit_code: number | null;
  signal: string | null;
  timed_out?: boolean;
  /** Gated metrics; wall time always, the rest from the signals. */
  metrics: Record<string, number | null>;
  details: Record<string, unknown>;
  warnings: string[];
}

export interface RunOptions {
  /** The recording's probes; absent for warm-up runs. */
  probes?: RecordProbes;
  output: WorkloadOutput;
  /** Kill the workload (SIGKILL) after this long. */
  timeoutMs?: number;
  /** Read the probes this often while the workload runs (default 5 s): long runs only. */
  pollMs?: number;
  /** Ctrl-C / SIGTERM: the workload gets SIGTERM, the run is abandoned. */
  abort?: AbortSignal;
}

/** Ctrl-C or SIGTERM during `record`: nothing is written; exit status 130. */
export class RecordInterrupted extends TunerError {
  override readonly exitCode = 130;
}

export function failed(r: Pick<RunResult, 'exit_code'>): boolean {
  return r.exit_code !== 0;
}

export async function measureRun(argv: readonly string[], run: number, opts: RunOptions): Promise<RunResult> {
  const started = new Date().toISOString();
  const child = spawnGated(argv, opts.output);
  try {
    const probes: RunProbe[] = opts.probes ? await opts.probes.attach(child.pid) : [];
    if (opts.abort?.aborted) throw new RecordInterrupted('record: interrupted before the run started');
    const cpuBefore = readCpuTimes();
    const t0 = child.release();
    const { exit, timedOut } = await waitForExit(child, probes, opts);
    const cpuAfter = readCpuTimes();
    if (opts.abort?.aborted) throw new RecordInterrupted(`record: interrupted during run ${run}`);
    const result: RunResult = {
      run,
      started,
      exit_code: exit.code,
      signal: exit.signal,
      metrics: { wall_ns: Number(exit.endNs - t0) },
      details: {},
      warnings: [],
    };
    if (timedOut) result.timed_out = true;
    for (const p of probes) {
      const s = await p.finish();
      Object.assign(result.metrics, s.metrics);
      Object.assign(result.details, s.details);
      result.warnings.push(...s.warnings);
    }
    Object.assign(result.details, hostLoad(cpuBefore, cpuAfter, result.metrics.wall_ns!, result.metrics.cpu_ns ?? undefined));
    return result;
  } finally {
    child.kill('SIGKILL');
  }
}

/**
 * How busy the whole machine was during the run (/proc/stat, every CPU), and
 * the part not explained by the workload's own CPU time: other work that
 * competed with it. `compare` warns when BASE and NEW ran on machines of very
 * different business.
 */
export function hostLoad(before: CpuTimes[], after: CpuTimes[], wallNs: number, workloadCpuNs?: number): Record<string, number> {
  const sum = (cs: CpuTimes[], f: (c: CpuTimes) => number): number => cs.reduce((s, c) => s + f(c), 0);
  const total = sum(after, (c) => c.total) - sum(before, (c) => c.total);
  const busy = sum(after, (c) => c.busy) - sum(before, (c) => c.busy);
  if (!(total > 0)) return {};
  const busyPct = (100 * busy) / total;
  const out: Record<string, number> = { 'host.busy_pct': Math.round(busyPct * 10) / 10 };
  if (workloadCpuNs !== undefined && wallNs > 0 && after.length > 0) {
    const own = (100 * workloadCpuNs) / (wallNs * after.length);
    out['host.other_busy_pct'] = Math.round(Math.max(0, busyPct - own) * 10) / 10;
  }
  return out;
}

async function waitForExit(
  child: ReturnType<typeof spawnGated>,
  probes: RunProbe[],
  opts: RunOptions,
): Promise<{ exit: Exit; timedOut: boolean }> {
  let timedOut = false;
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  const pollMs = opts.pollMs ?? 5000;
  let exit: Exit | undefined;
  child.exited.then((e) => (exit = e)).catch(() => {});
  const onAbort = (): void => child.kill('SIGTERM');
  opts.abort?.addEventListener('abort', onAbort, { once: true });
  try {
    while (exit === undefined) {
      const wait = Math.min(pollMs, deadline - Date.now());
      const tick = new AbortController();
      const woke = await Promise.race([child.exited.then(() => 'exit' as const), sleep(wait, tick.signal).then(() => 'tick' as const)]);
      tick.abort();
      if (woke === 'exit') break;
      if (Date.now() >= deadline) {
        timedOut = true;
        child.kill('SIGKILL');
        break;
      }
      for (const p of probes) await p.poll();
    }
    return { exit: await child.exited, timedOut };
  } finally {
    opts.abort?.removeEventListener('abort', onAbort);
  }
}
