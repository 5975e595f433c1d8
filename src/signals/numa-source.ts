/** The NUMA record source (procfs/sysfs, no BPF), opened for a scope: see open.ts. */
import type { Scope } from '../scope/resolve.js';
import { openNuma, type NumaRoots } from './numa.js';
import { buildNumaRecord, type NumaRecord } from './numa-record.js';
import type { OpenOptions, RecordSource } from './open.js';

/** Per-process placement is read for the scope's processes only (a PID set or a cgroup subtree). */
export function openNumaSource(scope: Scope, opts: Pick<OpenOptions, 'top'>, roots: NumaRoots = {}): RecordSource<NumaRecord> {
  const reader = openNuma({ pids: scope.pids, cgroupDir: scope.cgroup?.path, top: opts.top }, roots);
  return {
    signal: 'numa',
    backend: 'procfs',
    helperPids: () => [],
    close: () => reader.close(),
    next: async () => buildNumaRecord(reader.read(), new Date()),
  };
}
