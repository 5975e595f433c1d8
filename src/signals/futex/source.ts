/** The futex signal opened as records: the CO-RE reader plus the record builder. */
import { CgroupNames } from '../../cgroup/names.js';
import { commOf } from '../../procfs/pid.js';
import type { RecordSource, SourceContext } from '../types.js';
import { openFutexBpf } from './bpf.js';
import { buildFutexRecord, type FutexRecord } from './record.js';

export async function openSource(ctx: SourceContext): Promise<RecordSource<FutexRecord>> {
  const { scope } = ctx;
  const reader = await openFutexBpf(
    { pids: scope.pids, cgroup: scope.cgroup, followChildren: ctx.followChildren },
    { session: ctx.session, outlierNs: ctx.outliers.futexNs },
  );
  for (const w of reader.warnings) ctx.warn(w);
  const names = new CgroupNames(scope.layout.cpu);
  return {
    signal: 'futex',
    backend: 'bpf',
    reason: ctx.reason,
    raw: reader,
    helperPids: () => reader.helperPids(),
    close: () => reader.close(),
    next: async () => {
      const delta = await reader.read();
      ctx.onDelta?.('futex', delta);
      return buildFutexRecord(delta, {
        now: new Date(),
        top: ctx.top,
        pids: ctx.followChildren ? undefined : scope.pids,
        cgroupName: (id) => names.name(id),
        commOf,
      });
    },
  };
}
