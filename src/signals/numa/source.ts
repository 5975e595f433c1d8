/** The NUMA signal opened as records (procfs/sysfs, no BPF). */
import { openNuma, type NumaRoots } from './procfs.js';
import { buildNumaRecord, type NumaRecord } from './record.js';
import type { RecordSource, SourceContext } from '../types.js';

/** Per-process placement is read for the scope's processes only (a PID set or a cgroup subtree). */
export async function openSource(
  ctx: Pick<SourceContext, 'scope' | 'top' | 'reason'>,
  roots: NumaRoots = {},
): Promise<RecordSource<NumaRecord>> {
  const reader = openNuma({ pids: ctx.scope.pids, cgroupDir: ctx.scope.cgroup?.path, top: ctx.top }, roots);
  return {
    signal: 'numa',
    backend: 'procfs',
    reason: ctx.reason,
    helperPids: () => [],
    close: () => reader.close(),
    next: async () => buildNumaRecord(reader.read(), new Date()),
  };
}
