/** The network signal opened as records: the CO-RE reader plus the record builder. */
import { bpfScope, readerSource } from '../source.js';
import type { RecordSource, SourceContext } from '../types.js';
import { openNetBpf } from './bpf.js';
import { buildNetRecord, type NetRecord } from './record.js';

export async function openSource(ctx: SourceContext): Promise<RecordSource<NetRecord>> {
  const reader = await openNetBpf(bpfScope(ctx), { session: ctx.session });
  for (const w of reader.warnings) ctx.warn(w);
  return readerSource('net', ctx, reader, (d) => buildNetRecord(d, { now: new Date(), top: ctx.top }));
}
