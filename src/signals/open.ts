/**
 * Record sources: a signal's reader plus its record builder, opened for a
 * scope. `watch`, `diagnose`, `record` and `run` all sample signals through
 * these, so a signal is wired in once, here.
 */
import { readFileSync } from 'node:fs';
import { CgroupNames } from '../cgroup/names.js';
import { busyPercent, readCpuTimes } from '../procfs/stat.js';
import type { Scope } from '../scope/resolve.js';
import { unifiedCgroupOf, unifiedCounterpart } from '../scope/resolve.js';
import { chooseBackend, type BackendChoice } from './backend.js';
import { defaultPsiCgroups, openPsi } from './psi.js';
import { buildPsiRecord, type PsiRecord } from './psi-record.js';
import { openSchedBpf, type SignalReader } from './sched.js';
import { openSchedBpftrace } from './sched-bpftrace.js';
import { buildSchedRecord, type SchedDelta, type SchedRecord } from './sched-record.js';

export const SIGNALS = ['sched', 'psi'] as const;
export type SignalName = (typeof SIGNALS)[number];

export type AnyRecord = SchedRecord | PsiRecord;

export interface RecordSource<R = AnyRecord> {
  readonly signal: SignalName;
  readonly backend: 'bpf' | 'bpftrace' | 'procfs';
  readonly selfTimed?: boolean;
  /** The next interval's record (pull sources: since the previous call). */
  next(): Promise<R>;
  close(): void;
  helperPids(): number[];
}

export interface OpenOptions {
  backend: BackendChoice;
  intervalMs: number;
  /** Processes kept in sched records (ignored with --pid). */
  top: number;
  /** Also observe processes the PID set forks (record, diagnose). */
  followChildren?: boolean;
}

export function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

async function openSchedSource(scope: Scope, opts: OpenOptions): Promise<RecordSource<SchedRecord>> {
  const backend = await chooseBackend(opts.backend);
  const schedScope = { pids: scope.pids, cgroup: scope.cgroup, followChildren: opts.followChildren };
  const reader: SignalReader<SchedDelta> =
    backend === 'bpf' ? await openSchedBpf(schedScope) : await openSchedBpftrace(schedScope, opts.intervalMs);
  const names = new CgroupNames(scope.layout.cpu);
  let cpuTimes = readCpuTimes();
  return {
    signal: 'sched',
    backend,
    selfTimed: reader.selfTimed,
    helperPids: () => reader.helperPids(),
    close: () => reader.close(),
    async next() {
      const delta = await reader.read();
      const cur = readCpuTimes();
      const busy = busyPercent(cpuTimes, cur);
      cpuTimes = cur;
      return buildSchedRecord(delta, {
        backend: reader.backend,
        now: new Date(),
        top: opts.top,
        pids: opts.followChildren ? undefined : scope.pids,
        cgroupName: (id) => names.name(id),
        commOf,
        busyPct: busy,
      });
    },
  };
}

function openPsiSource(scope: Scope): RecordSource<PsiRecord> {
  const unified = scope.layout.unified?.mountPoint;
  let cgroups: string[] = [];
  if (unified) {
    if (scope.pids) cgroups = [...new Set(scope.pids.map(unifiedCgroupOf).filter((c): c is string => c !== undefined))];
    else if (scope.cgroup) {
      const counterpart = unifiedCounterpart(scope);
      cgroups = counterpart ? defaultPsiCgroups(unified, counterpart) : [];
    } else cgroups = defaultPsiCgroups(unified);
  }
  const reader = openPsi({ unifiedRoot: unified, cgroups });
  return {
    signal: 'psi',
    backend: 'procfs',
    helperPids: () => [],
    close: () => reader.close(),
    next: async () => buildPsiRecord(await reader.read(), new Date()),
  };
}

export async function openSource(signal: SignalName, scope: Scope, opts: OpenOptions): Promise<RecordSource> {
  switch (signal) {
    case 'sched':
      return openSchedSource(scope, opts);
    case 'psi':
      return openPsiSource(scope);
  }
}
