/** The futex signal's per-interval delta and the record `watch futex --json` prints. */
import { histAdd, log2Quantile } from '../../aggregate/histogram.js';

export interface FutexProcDelta {
  pid: number;
  comm: string;
  cgroupId: string;
  waits: number;
  waitNs: number;
  timeouts: number;
  wakes: number;
  woken: number;
  maxWaitNs?: number;
  hist: number[];
}

export interface FutexAddrDelta {
  pid: number;
  uaddr: bigint;
  waits: number;
  waitNs: number;
  /** Most threads waiting on the word at once during the interval. */
  maxWaiters: number;
}

export interface FutexDelta {
  intervalNs: number;
  procs: FutexProcDelta[];
  addrs: FutexAddrDelta[];
}

export interface LatencySummary {
  p50_us: number | null;
  p99_us: number | null;
  max_us: number | null;
}

export interface FutexRecord {
  signal: 'futex';
  ts: string;
  interval_ms: number;
  waits: number;
  wait_ns: number;
  timeouts: number;
  wakes: number;
  woken: number;
  wait: LatencySummary;
  procs: Array<{ pid: number; comm: string; cgroup: string; waits: number; wait_ns: number; wakes: number; wait: LatencySummary }>;
  addrs: Array<{ pid: number; uaddr: string; waiters: number; waits: number; wait_ns: number }>;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** p50/p99 from a log2(ns) histogram, clamped to the exact maximum; in µs. */
export function latencySummary(h: number[], maxNs: number | undefined): LatencySummary {
  const q = (p: number): number | null => {
    const v = log2Quantile(h, p);
    if (v === undefined) return null;
    return round1((maxNs === undefined ? v : Math.min(v, maxNs)) / 1000);
  };
  return { p50_us: q(0.5), p99_us: q(0.99), max_us: maxNs === undefined ? null : round1(maxNs / 1000) };
}

export function buildFutexRecord(
  d: FutexDelta,
  opts: { now: Date; top: number; pids?: number[]; cgroupName: (id: string) => string; commOf?: (pid: number) => string },
): FutexRecord {
  let procs = d.procs;
  if (opts.pids) {
    const by = new Map(procs.map((p) => [p.pid, p]));
    procs = opts.pids.map(
      (pid) =>
        by.get(pid) ?? {
          pid,
          comm: opts.commOf?.(pid) ?? '',
          cgroupId: '',
          waits: 0,
          waitNs: 0,
          timeouts: 0,
          wakes: 0,
          woken: 0,
          hist: [],
        },
    );
  }
  const all = histAdd(...procs.map((p) => p.hist));
  const max = procs.reduce<number | undefined>((m, p) => (p.maxWaitNs === undefined ? m : Math.max(m ?? 0, p.maxWaitNs)), undefined);
  const sum = (f: (p: FutexProcDelta) => number): number => procs.reduce((s, p) => s + f(p), 0);
  const inScope = new Set(procs.map((p) => p.pid));
  const procRecords = procs
    .map((p) => ({
      pid: p.pid,
      comm: p.comm,
      cgroup: p.cgroupId ? opts.cgroupName(p.cgroupId) : '',
      waits: p.waits,
      wait_ns: p.waitNs,
      wakes: p.wakes,
      wait: latencySummary(p.hist, p.maxWaitNs),
    }))
    .sort((a, b) => (opts.pids ? 0 : b.wait_ns - a.wait_ns || b.waits - a.waits));
  return {
    signal: 'futex',
    ts: opts.now.toISOString(),
    interval_ms: round1(d.intervalNs / 1e6),
    waits: sum((p) => p.waits),
    wait_ns: sum((p) => p.waitNs),
    timeouts: sum((p) => p.timeouts),
    wakes: sum((p) => p.wakes),
    woken: sum((p) => p.woken),
    wait: latencySummary(all, max),
    procs: opts.pids ? procRecords : procRecords.slice(0, opts.top),
    addrs: d.addrs
      .filter((a) => !opts.pids || inScope.has(a.pid))
      .sort((a, b) => b.waitNs - a.waitNs || b.maxWaiters - a.maxWaiters)
      .slice(0, opts.top)
      .map((a) => ({ pid: a.pid, uaddr: '0x' + a.uaddr.toString(16), waiters: a.maxWaiters, waits: a.waits, wait_ns: a.waitNs })),
  };
}
