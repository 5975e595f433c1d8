/** The block I/O signal opened as records: the CO-RE reader plus the record builder. */
import { bpfScope, processNaming, readerSource } from '../source.js';
import type { RecordSource, SourceContext } from '../types.js';
import { openIoBpf } from './bpf.js';
import { buildIoRecord, type IoRecord } from './record.js';

export async function openSource(ctx: SourceContext): Promise<RecordSource<IoRecord>> {
  const reader = await openIoBpf(bpfScope(ctx), { session: ctx.session, outlierNs: ctx.outliers.ioNs });
  const naming = processNaming(ctx);
  return readerSource('io', ctx, reader, (d) => buildIoRecord(d, { now: new Date(), ...naming }));
}
