/**
 * `tuner watch <signal>`: records, one per interval, as an async generator.
 * Input is validated before anything is loaded; the readers are closed
 * (programs detached, pins removed) however the loop ends.
 */
import { readFileSync } from 'node:fs';
import { detectLayout } from '../cgroup/layout.js';
import { resolveCgroup, type ResolvedCgroup } from '../cgroup/resolve.js';
import { CgroupNames } from '../cgroup/names.js';
import { UsageError } from '../errors.js';
import { intervals } from '../signals/intervals.js';
import { busyPercent, readCpuTimes } from '../procfs/stat.js';
import { chooseBackend, type BackendChoice } from '../signals/backend.js';
import { openSchedBpf, type SignalReader } from '../signals/sched.js';
import { openSchedBpftrace } from '../signals/sched-bpftrace.js';
import { buildSchedRecord, type SchedDelta, type SchedRecord } from '../signals/sched-record.js';

export const WATCH_SIGNALS = ['sched'] as const;
export type WatchSignal = (typeof WATCH_SIGNALS)[number];

export interface WatchOptions {
  intervalMs: number;
  count?: number;
  durationMs?: number;
  pids?: number[];
  /** A --cgroup argument (absolute, or relative to the cgroup root). */
  cgroup?: string;
  top: number;
  backend: BackendChoice;
  /** Stops the watch (Ctrl-C); the generator returns after closing its readers. */
  signal?: AbortSignal;
}

export interface SchedScopeResolved {
  pids?: number[];
  cgroup?: ResolvedCgroup;
}

/** Validate --pid/--cgroup against the host; throws UsageError. */
export function resolveScope(opts: Pick<WatchOptions, 'pids' | 'cgroup'>): SchedScopeResolved {
  if (opts.pids && opts.cgroup !== undefined) throw new UsageError('--pid and --cgroup cannot be combined: choose one scope');
  const scope: SchedScopeResolved = {};
  if (opts.pids) scope.pids = opts.pids;
  if (opts.cgroup !== undefined) scope.cgroup = resolveCgroup(opts.cgroup, detectLayout());
  return scope;
}

export function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Open the scheduler signal with the chosen backend. */
export async function openSched(scope: SchedScopeResolved, backend: BackendChoice, intervalMs: number): Promise<SignalReader<SchedDelta>> {
  const chosen = await chooseBackend(backend);
  return chosen === 'bpf' ? openSchedBpf(scope) : openSchedBpftrace(scope, intervalMs);
}

export async function* watchSched(opts: WatchOptions): AsyncGenerator<SchedRecord> {
  const scope = resolveScope(opts);
  const layout = detectLayout();
  const names = new CgroupNames(layout.cpu);
  const reader = await openSched(scope, opts.backend, opts.intervalMs);
  try {
    let cpuTimes = readCpuTimes();
    for await (const delta of intervals(reader, opts)) {
      const cur = readCpuTimes();
      const busy = busyPercent(cpuTimes, cur);
      cpuTimes = cur;
      yield buildSchedRecord(delta, {
        backend: reader.backend,
        now: new Date(),
        top: opts.top,
        pids: scope.pids,
        cgroupName: (id) => names.name(id),
        commOf,
        busyPct: busy,
      });
    }
  } finally {
    reader.close();
  }
}
