/** The futex signal opened as records: the CO-RE reader plus the record builder. */
import { bpfScope, processNaming, readerSource } from '../source.js';
import type { RecordSource, SourceContext } from '../types.js';
import { openFutexBpf } from './bpf.js';
import { buildFutexRecord, type FutexRecord } from './record.js';

export async function openSource(ctx: SourceContext): Promise<RecordSource<FutexRecord>> {
  const reader = await openFutexBpf(bpfScope(ctx), { session: ctx.session, outlierNs: ctx.outliers.futexNs });
  for (const w of reader.warnings) ctx.warn(w);
  const naming = processNaming(ctx);
  return readerSource('futex', ctx, reader, (d) => buildFutexRecord(d, { now: new Date(), ...naming }));
}
