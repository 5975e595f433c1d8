/**
 * From measurements to findings: each rule names a bottleneck, how bad it
 * is, the numbers it rests on, and the command that would nudge it. Pure,
 * so every rule is table-tested.
 */
import type { Thresholds } from './thresholds.js';

export type Severity = 'info' | 'warn' | 'critical';

export interface Suggestion {
  /** A shipped recipe, or null when the next step is to look closer. */
  recipe: string | null;
  command: string;
}

export interface Finding {
  kind:
    'cpu-contention' | 'lock-contention' | 'io-wait' | 'cpu-throttling' | 'memory-pressure' | 'io-pressure' | 'noisy-neighbor' | 'healthy';
  severity: Severity;
  summary: string;
  evidence: Record<string, unknown> & { line: string };
  suggest: Suggestion[];
}

/** What the rules look at; every part is optional (a probe may be missing). */
export interface Measurements {
  durationMs: number;
  target: { pid?: number; comm: string; threads: number; cgroup?: string; cgroupParent?: string };
  /** Kernel accounting over the window (/proc). */
  sched?: {
    oncpuNs: number;
    runqWaitNs: number;
    p99Us: number | null;
    maxUs: number | null;
    switches: number;
    involuntary: number;
    /**
     * Threads queued without running until the window's end (their wait, in runqWaitNs, is accounted by
     * no one else yet), and those of them queued the whole window: starved, never ran.
     */
    starved?: { sampled: number; threads: number; wholeWindow: number; waitNs: number };
  };
  futex?: {
    waits: number;
    waitNs: number;
    wakes: number;
    p99Us: number | null;
    hotWord?: { uaddr: string; waiters: number; waitNs: number };
  };
  io?: {
    ios: number;
    waitNs: number;
    devices: Array<{ dev: string; iops: number; p99Us: number | null; readSeqPct: number; avgReadKb: number }>;
  };
  throttle?: {
    quotaCpus: number | null;
    periods: number;
    throttled: number;
    /** Throttled time summed over the CPUs where the cgroup was throttled (the kernel adds each CPU's). */
    throttledUs: number;
    cgroup: string;
    dir: string;
  };
  psi?: { scope: string; cpu?: number; memory?: number; io?: number };
  /** CPU time every cgroup (of the cpu controller) used on the host during the window. */
  hostCgroups?: Array<{ cgroup: string; oncpuNs: number; topTask?: string }>;
}

const RANK: Record<Severity, number> = { critical: 2, warn: 1, info: 0 };
const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;
const ms = (ns: number): string => (ns >= 1e9 ? `${(ns / 1e9).toFixed(2)} s` : `${(ns / 1e6).toFixed(1)} ms`);
const us = (v: number | null): string => (v === null ? '-' : v >= 1000 ? `${(v / 1000).toFixed(1)} ms` : `${v.toFixed(0)} us`);

function level(value: number, warn: number, critical: number): Severity | undefined {
  return value >= critical ? 'critical' : value >= warn ? 'warn' : undefined;
}

function scopeFlag(m: Measurements): string {
  return m.target.pid !== undefined ? `--pid ${m.target.pid}` : `--cgroup ${m.target.cgroup ?? '.'}`;
}

/** Run-queue wait beyond what a CPU quota explains. */
function cpuContention(m: Measurements, t: Thresholds): Finding[] {
  const out: Finding[] = [];
  const secs = m.durationMs / 1000;
  const flag = scopeFlag(m);
  if (m.sched) {
    const { runqWaitNs, oncpuNs } = m.sched;
    // A task of a throttled cgroup stays queued: that part of its wait is the quota's doing, not contention.
    // While throttled, every runnable thread waits: (wait + on-CPU) / window of them on average.
    const windowNs = m.durationMs * 1e6;
    const runnable = windowNs > 0 ? (runqWaitNs + oncpuNs) / windowNs : 0;
    const byQuota = m.throttle ? Math.min(runqWaitNs, m.throttle.throttledUs * 1000 * runnable) : 0;
    const contended = runqWaitNs - byQuota;
    const share = runqWaitNs + oncpuNs > 0 ? contended / (runqWaitNs + oncpuNs) : 0;
    const sev = level(share, t['cpu.wait_share.warn'], t['cpu.wait_share.critical']);
    if (sev) {
      const quotaNote = byQuota > 0 ? ` (besides ${ms(byQuota)} held back by its CPU quota)` : '';
      const st = m.sched.starved;
      const starvedNote = !st
        ? ''
        : st.wholeWindow > 0
          ? `; ${st.wholeWindow} of ${st.sampled} threads starved: runnable the whole ${secs.toFixed(1)} s but never ran`
          : `; ${st.threads} of ${st.sampled} threads queued without running until the end of the window`;
      const starvedLine = st
        ? `; ${st.threads} thread${st.threads === 1 ? '' : 's'} runnable but never run until the end (${st.wholeWindow} starved the whole window, never ran: ${ms(st.waitNs)} of the wait, which the kernel accounts only once a thread runs)`
        : '';
      out.push({
        kind: 'cpu-contention',
        severity: sev,
        summary: `waits for a CPU ${pct(share)} of the time it could run (${ms(contended)} on run queues in ${secs.toFixed(1)} s${quotaNote}, p99 wait ${us(m.sched.p99Us)})${starvedNote}`,
        evidence: {
          line: `run-queue wait ${pct(share)} of runnable time (${ms(contended)} waiting${quotaNote}, ${ms(oncpuNs)} on CPU), ${pct(contended / windowNs)} of wall time; p99 ${us(m.sched.p99Us)}, max ${us(m.sched.maxUs)}; ${m.sched.involuntary} involuntary switches${starvedLine}`,
          starved_threads: st?.threads ?? 0,
          starved_whole_window: st?.wholeWindow ?? 0,
          starved_wait_ns: st?.waitNs ?? 0,
          runq_wait_ns: runqWaitNs,
          quota_wait_ns: Math.round(byQuota),
          oncpu_ns: oncpuNs,
          wait_share: round(share),
          wall_share: round(contended / windowNs),
          thread_share: round(threadShare(m, contended)),
          p99_us: m.sched.p99Us,
          max_us: m.sched.maxUs,
        },
        suggest: [{ recipe: 'spread-hot-threads.yaml', command: `tuner run recipes/spread-hot-threads.yaml ${flag}` }],
      });
    }
  }
  return out;
}

/** With CPU contention: another cgroup that used most of the host's CPU meanwhile. */
function noisyNeighbor(m: Measurements, t: Thresholds, found: readonly Finding[]): Finding[] {
  const out: Finding[] = [];
  const secs = m.durationMs / 1000;
  const contention = found.find((f) => f.kind === 'cpu-contention');
  if (contention && m.hostCgroups && m.hostCgroups.length > 0) {
    const total = m.hostCgroups.reduce((x, c) => x + c.oncpuNs, 0);
    const others = m.hostCgroups.filter((c) => c.cgroup !== m.target.cgroup).sort((x, y) => y.oncpuNs - x.oncpuNs);
    const top = others[0];
    const share = top && total > 0 ? top.oncpuNs / total : 0;
    if (top && share >= t['neighbor.share']) {
      out.push({
        kind: 'noisy-neighbor',
        severity: contention.severity,
        summary: `while it waited for a CPU, cgroup ${top.cgroup} used ${pct(share)} of the CPU time on the host${top.topTask ? ` (mostly ${top.topTask})` : ''}`,
        evidence: {
          line: `run-queue wait ${pct(contention.evidence.wait_share as number)} of runnable time; over the same ${secs.toFixed(1)} s cgroup ${top.cgroup} ran ${ms(top.oncpuNs)}, ${pct(share)} of all CPU time used (the target's cgroup: ${pct((m.hostCgroups.find((c) => c.cgroup === m.target.cgroup)?.oncpuNs ?? 0) / total)})`,
          neighbor_cgroup: top.cgroup,
          neighbor_share: round(share),
          neighbor_oncpu_ns: top.oncpuNs,
          top_task: top.topTask ?? null,
        },
        suggest: [
          {
            recipe: 'noisy-neighbor.yaml',
            command: `tuner run recipes/noisy-neighbor.yaml --cgroup ${commonParent(top.cgroup, m.target.cgroup ?? '/')}`,
          },
        ],
      });
    }
  }
  return out;
}

/** Time blocked on futexes, at a rate that is not an idle pool waiting for work. */
function lockContention(m: Measurements, t: Thresholds): Finding[] {
  const out: Finding[] = [];
  const secs = m.durationMs / 1000;
  const flag = scopeFlag(m);
  if (m.futex && m.target.threads > 0) {
    const { waits, waitNs } = m.futex;
    const threadTime = m.target.threads * m.durationMs * 1e6;
    const share = threadTime > 0 ? waitNs / threadTime : 0;
    const rate = secs > 0 ? waits / secs : 0;
    const sev = rate >= t['lock.min_rate'] ? level(share, t['lock.wait_share.warn'], t['lock.wait_share.critical']) : undefined;
    if (sev) {
      const w = m.futex.hotWord;
      out.push({
        kind: 'lock-contention',
        severity: sev,
        summary: `threads spend ${pct(share)} of their time blocked on futexes (${Math.round(rate)} waits/s, p99 ${us(m.futex.p99Us)})${w ? `, mostly on ${w.uaddr} with up to ${w.waiters} waiters` : ''}`,
        evidence: {
          line: `futex wait ${ms(waitNs)} over ${m.target.threads} threads in ${secs.toFixed(1)} s (${pct(share)} of thread time), ${Math.round(rate)} waits/s, p99 ${us(m.futex.p99Us)}${w ? `; hottest word ${w.uaddr}: ${pct(w.waitNs / Math.max(1, waitNs))} of the wait, ${w.waiters} waiters at once` : ''}`,
          futex_wait_ns: waitNs,
          waits,
          wakes: m.futex.wakes,
          wait_share: round(share),
          thread_share: round(threadShare(m, waitNs)),
          p99_us: m.futex.p99Us,
          hot_word: w ?? null,
        },
        suggest: [{ recipe: null, command: `tuner watch futex ${flag}` }],
      });
    }
  }
  return out;
}

/** Time blocked on block I/O. */
function ioWait(m: Measurements, t: Thresholds): Finding[] {
  const out: Finding[] = [];
  const secs = m.durationMs / 1000;
  const flag = scopeFlag(m);
  if (m.io) {
    const share = m.durationMs > 0 ? m.io.waitNs / (m.durationMs * 1e6) : 0;
    const sev = m.io.ios > 0 ? level(share, t['io.wait_share.warn'], t['io.wait_share.critical']) : undefined;
    if (sev) {
      const dev = [...m.io.devices].sort((a, b) => b.iops - a.iops)[0];
      const sequential = dev !== undefined && dev.readSeqPct >= 80;
      out.push({
        kind: 'io-wait',
        severity: sev,
        summary: `blocked on block I/O ${pct(share)} of the time (${m.io.ios} requests${dev ? `, ${dev.dev} p99 ${us(dev.p99Us)}` : ''})`,
        evidence: {
          line: `I/O wait ${ms(m.io.waitNs)} in ${secs.toFixed(1)} s (${pct(share)} of wall time), ${Math.round(m.io.ios / Math.max(secs, 1e-9))} IOPS${dev ? `; ${dev.dev}: p99 ${us(dev.p99Us)}, ${dev.readSeqPct}% sequential reads of ${dev.avgReadKb} KiB` : ''}`,
          io_wait_ns: m.io.waitNs,
          ios: m.io.ios,
          wait_share: round(share),
          thread_share: round(threadShare(m, m.io.waitNs)),
          device: dev ?? null,
        },
        suggest: sequential
          ? [{ recipe: 'readahead-sequential.yaml', command: `tuner run recipes/readahead-sequential.yaml ${flag}` }]
          : [{ recipe: null, command: `tuner watch io ${flag}` }],
      });
    }
  }
  return out;
}

/** Time the cgroup spent throttled by its CFS quota. */
function cpuThrottling(m: Measurements, t: Thresholds): Finding[] {
  const out: Finding[] = [];
  const secs = m.durationMs / 1000;
  if (m.throttle && m.throttle.periods > 0) {
    // The kernel adds up the throttled time of every CPU whose run queue held the cgroup's threads, so a cgroup
    // throttled on two CPUs at once reads more than the window: the share stops at the whole window.
    const share = m.durationMs > 0 ? Math.min(1, m.throttle.throttledUs / (m.durationMs * 1000)) : 0;
    const sev = level(share, t['throttle.share.warn'], t['throttle.share.critical']);
    if (sev) {
      out.push({
        kind: 'cpu-throttling',
        severity: sev,
        summary: `its cgroup ${m.throttle.cgroup} was throttled by its CPU quota (${m.throttle.quotaCpus ?? 'no'} CPUs) in ${pct(m.throttle.throttled / m.throttle.periods)} of periods, ${pct(share)} of the time`,
        evidence: {
          line: `${m.throttle.throttled} of ${m.throttle.periods} CFS periods throttled, ${ms(m.throttle.throttledUs * 1000)} throttled (summed over its CPUs) in ${secs.toFixed(1)} s; quota ${m.throttle.quotaCpus ?? 'unlimited'} CPUs`,
          quota_cpus: m.throttle.quotaCpus,
          periods: m.throttle.periods,
          throttled_periods: m.throttle.throttled,
          throttled_us: m.throttle.throttledUs,
          throttled_share: round(share),
        },
        // Its own quota holds it back: raising cpu.max (cpu.cfs_quota_us) is what gives it CPU. No shipped
        // recipe raises a quota (psi-backoff lowers one), so the suggestion is to watch it.
        suggest: [{ recipe: null, command: `tuner watch sched --cgroup ${m.throttle.cgroup}` }],
      });
    }
  }
  return out;
}

/** Memory and I/O pressure stalls (PSI). */
function pressure(m: Measurements, t: Thresholds): Finding[] {
  const out: Finding[] = [];
  const secs = m.durationMs / 1000;
  if (m.psi) {
    for (const [res, kind] of [
      ['memory', 'memory-pressure'],
      ['io', 'io-pressure'],
    ] as const) {
      const v = m.psi[res];
      if (v === undefined) continue;
      const sev = level(v, t[`psi.${res}.warn`], t[`psi.${res}.critical`]);
      if (!sev) continue;
      out.push({
        kind,
        severity: sev,
        summary: `${res} pressure: some task of ${m.psi.scope} stalled on ${res} ${v.toFixed(1)}% of the time`,
        evidence: {
          line: `PSI ${res} some ${v.toFixed(1)}% over ${secs.toFixed(1)} s (${m.psi.scope})`,
          psi_some_pct: v,
          scope: m.psi.scope,
        },
        // psi-backoff acts on CPU contention only (a CPU quota does not relieve memory or I/O stalls).
        suggest: [
          ...(res === 'io' ? [{ recipe: null, command: `tuner watch io ${scopeFlag(m)}` }] : []),
          { recipe: null, command: `tuner watch psi ${scopeFlag(m)}` },
        ],
      });
    }
  }
  return out;
}

/** Nothing above: the measured waits, for the record. */
function healthy(m: Measurements, t: Thresholds, found: readonly Finding[]): Finding[] {
  const out: Finding[] = [];
  if (found.length === 0) {
    out.push({
      kind: 'healthy',
      severity: 'info',
      summary: 'nothing stands out: no CPU, lock, I/O, quota or pressure bottleneck above the thresholds',
      evidence: {
        line: [
          m.sched ? `run-queue wait ${ms(m.sched.runqWaitNs)}` : undefined,
          m.futex ? `futex wait ${ms(m.futex.waitNs)}` : undefined,
          m.io ? `I/O wait ${ms(m.io.waitNs)}` : undefined,
          m.throttle ? `${m.throttle.throttled} throttled periods` : undefined,
        ]
          .filter(Boolean)
          .join(', '),
      },
      suggest: [],
    });
  }
  return out;
}

/**
 * The rules, in the order they run: each returns its findings (none when it
 * does not apply); a rule sees what the rules before it found.
 */
export const RULES: ReadonlyArray<{
  kinds: readonly Finding['kind'][];
  rule: (m: Measurements, t: Thresholds, found: readonly Finding[]) => Finding[];
}> = [
  { kinds: ['cpu-contention'], rule: cpuContention },
  { kinds: ['noisy-neighbor'], rule: noisyNeighbor },
  { kinds: ['lock-contention'], rule: lockContention },
  { kinds: ['io-wait'], rule: ioWait },
  { kinds: ['cpu-throttling'], rule: cpuThrottling },
  { kinds: ['memory-pressure', 'io-pressure'], rule: pressure },
  { kinds: ['healthy'], rule: healthy },
];

export function findings(m: Measurements, t: Thresholds): Finding[] {
  const out: Finding[] = [];
  for (const { rule } of RULES) out.push(...rule(m, t, out));
  // Most severe first; among equals, the one that costs the target the largest share of its time.
  out.sort((a, b) => RANK[b.severity] - RANK[a.severity] || impact(b) - impact(a));
  return afterItsCause(out, 'io-pressure', 'io-wait');
}

/**
 * `symptom` (I/O pressure: some task of the scope stalled on I/O) moved right after `cause` (the target's own I/O
 * wait) when both are found: the target's wait is the finding, the pressure its consequence, whatever their
 * severities (a reader waiting on I/O 49% of the time is a warning, the pressure it makes may be critical).
 */
function afterItsCause(found: Finding[], symptom: Finding['kind'], cause: Finding['kind']): Finding[] {
  const s = found.findIndex((f) => f.kind === symptom);
  const c = found.findIndex((f) => f.kind === cause);
  if (s < 0 || c < 0 || s > c) return found;
  const rest = found.filter((_, i) => i !== s);
  rest.splice(rest.indexOf(found[c]!) + 1, 0, found[s]!);
  return rest;
}

/**
 * The share of the target's thread time (threads x window) a wait took: the one
 * measure that compares a run-queue wait, a futex wait and an I/O wait (each
 * rule's own share has its own denominator: runnable time, thread time, wall time).
 */
function threadShare(m: Measurements, waitNs: number): number {
  const threadTime = Math.max(1, m.target.threads) * m.durationMs * 1e6;
  return threadTime > 0 ? waitNs / threadTime : 0;
}

/** How much of the target's time a finding accounts for, to rank findings of equal severity. */
export function impact(f: Finding): number {
  const e = f.evidence;
  const v =
    e.thread_share ??
    e.wait_share ??
    e.throttled_share ??
    e.neighbor_share ??
    (typeof e.psi_some_pct === 'number' ? e.psi_some_pct / 100 : 0);
  return typeof v === 'number' ? v : 0;
}

/** The deepest cgroup both paths live under (the scope a weight nudge between them needs). */
export function commonParent(a: string, b: string): string {
  const pa = a.split('/').filter(Boolean);
  const pb = b.split('/').filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < Math.min(pa.length, pb.length) && pa[i] === pb[i]; i++) out.push(pa[i]!);
  return '/' + out.join('/');
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
