/**
 * The scheduler signal as both backends deliver it (per-interval deltas) and
 * the record `watch sched --json` prints. Building the record is pure:
 * percentiles, sorting, top-N and naming happen here, not in the readers.
 */
import { histAdd, histCount, histSum, log2Quantile, type Hist } from '../../aggregate/histogram.js';

export interface SchedCounts {
  oncpuNs: number;
  /** Kernel accounting (sched_info.run_delay): total run-queue wait. */
  runDelayNs: number;
  nvcsw: number;
  nivcsw: number;
  /** Waits measured by the probe, their sum and log2(ns) histograms. */
  waits: number;
  waitNs: number;
  histWakeup: Hist;
  histPreempt: Hist;
}

export interface SchedProcDelta extends SchedCounts {
  pid: number;
  comm: string;
  /** CPU-controller cgroup id (kernfs inode), as a decimal string. */
  cgroupId: string;
  /** Longest wait in the interval, when the backend knows it. */
  maxWaitNs?: number;
  /** Threads that ran in the interval. */
  threads: number;
  exited: boolean;
}

export interface SchedCgroupDelta extends SchedCounts {
  cgroupId: string;
}

export interface SchedCpuDelta {
  cpu: number;
  switches: number;
  /** Sum of every task's waits that ended on this CPU (all tasks, scope ignored). */
  waitNs: number;
}

export interface SchedDelta {
  intervalNs: number;
  procs: SchedProcDelta[];
  /** The sums of every process's histograms, when the reader made them (else: sum `procs`). */
  procHist?: { wakeup: Hist; preempt: Hist };
  cgroups: SchedCgroupDelta[];
  cpus: SchedCpuDelta[];
}

export interface RunqSummary {
  count: number;
  wait_ns: number;
  p50_us: number | null;
  p90_us: number | null;
  p99_us: number | null;
  max_us: number | null;
}

export interface SchedProcRecord {
  pid: number;
  comm: string;
  cgroup: string;
  threads: number;
  oncpu_ns: number;
  runq_wait_ns: number;
  switches: number;
  voluntary: number;
  involuntary: number;
  runq: { count: number; p50_us: number | null; p99_us: number | null; max_us: number | null };
  exited?: boolean;
}

export interface SchedCgroupRecord {
  cgroup: string;
  oncpu_ns: number;
  runq_wait_ns: number;
  /** Share of runnable time spent waiting: wait / (wait + on-CPU). */
  wait_share: number;
  switches: number;
  runq: { count: number; p99_us: number | null };
}

export interface SchedRecord {
  signal: 'sched';
  ts: string;
  interval_ms: number;
  backend: 'bpf' | 'bpftrace';
  switches: number;
  voluntary: number;
  involuntary: number;
  runq: RunqSummary & {
    wakeup: { count: number; p99_us: number | null };
    preempt: { count: number; p99_us: number | null };
  };
  cpus: Array<{ cpu: number; runq_len_avg: number; busy_pct: number | null; switches: number }>;
  /**
   * Tasks outside the scope: the run-queue waits that ended on every CPU less the scope's own (the same probe
   * measures both), and that as the mean number of them waiting. What a scope that takes less CPU gives the rest
   * of the host; near 0 when the scope is the whole host.
   */
  outside: { runq_wait_ns: number; runq_len_avg: number };
  procs: SchedProcRecord[];
  cgroups: SchedCgroupRecord[];
}

export interface BuildOptions {
  backend: 'bpf' | 'bpftrace';
  /** Wall-clock time of the reading. */
  now: Date;
  /** Keep this many processes (sorted by run-queue wait); ignored when `pids` is set. */
  top: number;
  /** --pid: exactly these processes, in this order of precedence; absent ones appear with zeros. */
  pids?: number[];
  cgroupName: (id: string) => string;
  /** Name of a --pid process that did not run in the interval. */
  commOf?: (pid: number) => string;
  busyPct?: Map<number, number>;
}

const us = (ns: number | undefined): number | null => (ns === undefined ? null : round(ns / 1000, 1));

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A quantile of a log2 histogram in µs; clamped to the exact maximum when the backend knows it. */
/**
 * The wake-up and preemption histograms summed over the delta's processes, or over `only` (a subset of them): the
 * reader's sums when it made them and no subset is asked for, else the sum of the processes' own.
 */
export function procHists(delta: SchedDelta, only?: readonly SchedProcDelta[]): { wakeup: Hist; preempt: Hist } {
  if (delta.procHist && only === undefined) return delta.procHist;
  const procs = only ?? delta.procs;
  return { wakeup: histSum(procs.map((p) => p.histWakeup)), preempt: histSum(procs.map((p) => p.histPreempt)) };
}

const quantileUs = (h: Hist, q: number, maxNs?: number): number | null => {
  const v = log2Quantile(h, q);
  return us(v === undefined ? undefined : maxNs === undefined ? v : Math.min(v, maxNs));
};

export function buildSchedRecord(delta: SchedDelta, opts: BuildOptions): SchedRecord {
  let procs = delta.procs;
  if (opts.pids) {
    const byPid = new Map(procs.map((p) => [p.pid, p]));
    procs = opts.pids.map((pid) => byPid.get(pid) ?? emptyProc(pid, opts.commOf?.(pid) ?? ''));
  }
  const h = procHists(delta, opts.pids ? procs : undefined);
  const wake = histSum([h.wakeup]);
  const pre = histSum([h.preempt]);
  const all = histAdd(wake, pre);
  const maxNs = procs.reduce<number | undefined>((m, p) => (p.maxWaitNs === undefined ? m : Math.max(m ?? 0, p.maxWaitNs)), undefined);
  const sum = (f: (p: SchedProcDelta) => number): number => procs.reduce((s, p) => s + f(p), 0);

  // The top processes by run-queue wait (then on-CPU time, then pid); with --pid, the ones asked for, in order.
  const shown = opts.pids
    ? procs
    : [...procs].sort((a, b) => b.runDelayNs - a.runDelayNs || b.oncpuNs - a.oncpuNs || a.pid - b.pid).slice(0, opts.top);
  const procRecords = shown.map((p): SchedProcRecord => {
    const h = histAdd(p.histWakeup, p.histPreempt);
    const rec: SchedProcRecord = {
      pid: p.pid,
      comm: p.comm,
      cgroup: p.cgroupId === '' ? '' : opts.cgroupName(p.cgroupId),
      threads: p.threads,
      oncpu_ns: p.oncpuNs,
      runq_wait_ns: p.runDelayNs,
      switches: p.nvcsw + p.nivcsw,
      voluntary: p.nvcsw,
      involuntary: p.nivcsw,
      runq: {
        count: histCount(h),
        p50_us: quantileUs(h, 0.5, p.maxWaitNs),
        p99_us: quantileUs(h, 0.99, p.maxWaitNs),
        max_us: us(p.maxWaitNs),
      },
    };
    if (p.exited) rec.exited = true;
    return rec;
  });

  const intervalNs = delta.intervalNs;
  // Every process of the scope (not only the ones shown), exited ones too: their waits ended on these CPUs.
  const scopeWaitNs = delta.procs.reduce((s, p) => s + p.waitNs, 0);
  const outsideNs = Math.max(0, delta.cpus.reduce((s, c) => s + c.waitNs, 0) - scopeWaitNs);
  return {
    signal: 'sched',
    ts: opts.now.toISOString(),
    interval_ms: round(intervalNs / 1e6, 1),
    backend: opts.backend,
    switches: sum((p) => p.nvcsw + p.nivcsw),
    voluntary: sum((p) => p.nvcsw),
    involuntary: sum((p) => p.nivcsw),
    runq: {
      count: histCount(all),
      wait_ns: sum((p) => p.runDelayNs),
      p50_us: quantileUs(all, 0.5, maxNs),
      p90_us: quantileUs(all, 0.9, maxNs),
      p99_us: quantileUs(all, 0.99, maxNs),
      max_us: us(maxNs),
      wakeup: { count: histCount(wake), p99_us: quantileUs(wake, 0.99, maxNs) },
      preempt: { count: histCount(pre), p99_us: quantileUs(pre, 0.99, maxNs) },
    },
    cpus: delta.cpus.map((c) => ({
      cpu: c.cpu,
      runq_len_avg: intervalNs > 0 ? round(c.waitNs / intervalNs, 3) : 0,
      busy_pct: opts.busyPct?.has(c.cpu) ? round(opts.busyPct.get(c.cpu)!, 1) : null,
      switches: c.switches,
    })),
    outside: { runq_wait_ns: outsideNs, runq_len_avg: intervalNs > 0 ? round(outsideNs / intervalNs, 3) : 0 },
    procs: procRecords,
    cgroups: delta.cgroups
      .map((c): SchedCgroupRecord => {
        const h = histAdd(c.histWakeup, c.histPreempt);
        const runnable = c.runDelayNs + c.oncpuNs;
        return {
          cgroup: opts.cgroupName(c.cgroupId),
          oncpu_ns: c.oncpuNs,
          runq_wait_ns: c.runDelayNs,
          wait_share: runnable > 0 ? round(c.runDelayNs / runnable, 4) : 0,
          switches: c.nvcsw + c.nivcsw,
          runq: { count: histCount(h), p99_us: quantileUs(h, 0.99) },
        };
      })
      .sort((a, b) => b.runq_wait_ns - a.runq_wait_ns || b.oncpu_ns - a.oncpu_ns),
  };
}

/** A process delta with nothing counted (fields in `over` replace the zeros). */
export function emptyProc(pid: number, comm: string, over: Partial<SchedProcDelta> = {}): SchedProcDelta {
  return {
    pid,
    comm,
    cgroupId: '',
    threads: 0,
    exited: false,
    oncpuNs: 0,
    runDelayNs: 0,
    nvcsw: 0,
    nivcsw: 0,
    waits: 0,
    waitNs: 0,
    histWakeup: [],
    histPreempt: [],
    ...over,
  };
}
