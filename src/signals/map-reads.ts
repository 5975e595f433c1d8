/**
 * How the io and net readers read their maps: through their dump iterators
 * (io_dump.bpf.o, net_dump.bpf.o) where the kernel loads them, or through
 * bpftool's JSON. `bpftool` forces the second, so the two can be compared on
 * one kernel (tests, the benchmark): per reader, or for a whole process with
 * TUNER_MAP_READS=bpftool.
 */
import { UsageError } from '../errors.js';

export type MapReads = 'auto' | 'bpftool';

/** The reader's choice, else TUNER_MAP_READS (checked), else auto. */
export function mapReads(choice?: MapReads, env: NodeJS.ProcessEnv = process.env): MapReads {
  if (choice) return choice;
  const v = env.TUNER_MAP_READS;
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (v === 'bpftool') return v;
  throw new UsageError(`TUNER_MAP_READS: expected auto or bpftool, got "${v}"`);
}
