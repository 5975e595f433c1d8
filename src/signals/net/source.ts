/** The network signal opened as records: the CO-RE reader plus the record builder. */
import type { RecordSource, SourceContext } from '../types.js';
import { openNetBpf } from './bpf.js';
import { buildNetRecord, type NetRecord } from './record.js';

export async function openSource(ctx: SourceContext): Promise<RecordSource<NetRecord>> {
  const { scope } = ctx;
  const reader = await openNetBpf({ pids: scope.pids, cgroup: scope.cgroup, followChildren: ctx.followChildren }, { session: ctx.session });
  for (const w of reader.warnings) ctx.warn(w);
  return {
    signal: 'net',
    backend: 'bpf',
    reason: ctx.reason,
    raw: reader,
    helperPids: () => reader.helperPids(),
    close: () => reader.close(),
    next: async () => buildNetRecord(await reader.read(), { now: new Date(), top: ctx.top }),
  };
}
