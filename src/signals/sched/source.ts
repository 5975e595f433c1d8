/** The scheduler signal opened as records: the CO-RE or bpftrace reader plus the record builder. */
import { CgroupNames } from '../../cgroup/names.js';
import { commOf } from '../../procfs/pid.js';
import { busyPercent, readCpuTimes } from '../../procfs/stat.js';
import type { SignalReader } from '../reader.js';
import type { RecordSource, SourceContext } from '../types.js';
import { openSchedBpf } from './bpf.js';
import { openSchedBpftrace } from './bpftrace.js';
import { buildSchedRecord, type SchedDelta, type SchedRecord } from './record.js';

export async function openSource(ctx: SourceContext): Promise<RecordSource<SchedRecord>> {
  const { scope } = ctx;
  const schedScope = { pids: scope.pids, cgroup: scope.cgroup, followChildren: ctx.followChildren };
  const reader: SignalReader<SchedDelta> =
    ctx.backend === 'bpf'
      ? await openSchedBpf(schedScope, { session: ctx.session, outlierNs: ctx.outliers.runqNs })
      : await openSchedBpftrace(schedScope, ctx.intervalMs, ctx.warn);
  const names = new CgroupNames(scope.layout.cpu);
  let cpuTimes = readCpuTimes();
  return {
    signal: 'sched',
    backend: reader.backend,
    reason: ctx.reason,
    selfTimed: reader.selfTimed,
    raw: reader,
    helperPids: () => reader.helperPids(),
    close: () => reader.close(),
    async next() {
      const delta = await reader.read();
      ctx.onDelta?.('sched', delta);
      const cur = readCpuTimes();
      const busy = busyPercent(cpuTimes, cur);
      cpuTimes = cur;
      return buildSchedRecord(delta, {
        backend: reader.backend,
        now: new Date(),
        top: ctx.top,
        pids: ctx.followChildren ? undefined : scope.pids,
        cgroupName: (id) => names.name(id),
        commOf,
        busyPct: busy,
      });
    },
  };
}
