/** The block I/O signal opened as records: the CO-RE reader plus the record builder. */
import { CgroupNames } from '../../cgroup/names.js';
import { commOf } from '../../procfs/pid.js';
import type { RecordSource, SourceContext } from '../types.js';
import { openIoBpf } from './bpf.js';
import { buildIoRecord, type IoRecord } from './record.js';

export async function openSource(ctx: SourceContext): Promise<RecordSource<IoRecord>> {
  const { scope } = ctx;
  const reader = await openIoBpf(
    { pids: scope.pids, cgroup: scope.cgroup, followChildren: ctx.followChildren },
    { session: ctx.session, outlierNs: ctx.outliers.ioNs },
  );
  const names = new CgroupNames(scope.layout.cpu);
  return {
    signal: 'io',
    backend: 'bpf',
    reason: ctx.reason,
    raw: reader,
    helperPids: () => reader.helperPids(),
    close: () => reader.close(),
    next: async () =>
      buildIoRecord(await reader.read(), {
        now: new Date(),
        top: ctx.top,
        pids: ctx.followChildren ? undefined : scope.pids,
        cgroupName: (id) => names.name(id),
        commOf,
      }),
  };
}
