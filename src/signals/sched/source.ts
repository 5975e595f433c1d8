/** The scheduler signal opened as records: the CO-RE or bpftrace reader plus the record builder. */
import { busyPercent, readCpuTimes } from '../../procfs/stat.js';
import type { SignalReader } from '../reader.js';
import { bpfScope, processNaming, readerSource } from '../source.js';
import type { RecordSource, SourceContext } from '../types.js';
import { openSchedBpf } from './bpf.js';
import { openSchedBpftrace } from './bpftrace.js';
import { buildSchedRecord, type SchedDelta, type SchedRecord } from './record.js';

export async function openSource(ctx: SourceContext): Promise<RecordSource<SchedRecord>> {
  const reader: SignalReader<SchedDelta> =
    ctx.backend === 'bpf'
      ? await openSchedBpf(bpfScope(ctx), { session: ctx.session, outlierNs: ctx.outliers.runqNs })
      : await openSchedBpftrace(bpfScope(ctx), ctx.intervalMs, ctx.warn);
  const naming = processNaming(ctx);
  let cpuTimes = readCpuTimes();
  return readerSource('sched', ctx, reader, (delta) => {
    const cur = readCpuTimes();
    const busyPct = busyPercent(cpuTimes, cur);
    cpuTimes = cur;
    return buildSchedRecord(delta, { backend: reader.backend, now: new Date(), busyPct, ...naming });
  });
}
