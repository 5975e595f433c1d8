/**
 * The output of the sched object's `dump` iterator (bpf/sched.h: struct
 * sched_rec, then the entry as stored in its map), decoded into the same
 * entries as a bpftool dump of sched_procs and sched_cgroups. Offsets follow
 * the C layout (naturally aligned, little-endian); every record carries its
 * entry's size, checked here, so an object built for another layout fails
 * loudly instead of being misread.
 */
import type { RawCounts, RawProc } from './sched.js';

/** Values of bpf/sched.h. */
const SCHED_SLOTS = 40;
const REC_PROC = 1;
const REC_CGROUP = 2;
const REC_CPU = 3;
const REC_HEADER = 16;

/** struct sched_cpu: switches, wait_ns, dumped (three u64). */
const CPU = { switches: 0, waitNs: 8, size: 24 };

/** struct sched_counts: ten u64, then two u32[SCHED_SLOTS]. */
const COUNTS = {
  created: 0,
  oncpu: 24,
  runDelay: 32,
  nvcsw: 48,
  nivcsw: 56,
  waits: 64,
  waitNs: 72,
  histWakeup: 80,
  histPreempt: 80 + 4 * SCHED_SLOTS,
  size: 80 + 8 * SCHED_SLOTS,
};

/** struct sched_proc: four u64, two u32, char comm[16], then struct sched_counts. */
const PROC = { cgroupId: 0, maxWaitNs: 8, maxCycle: 16, threadsCycle: 24, threads: 32, exited: 36, comm: 40, counts: 56, size: 56 + COUNTS.size };

export interface DumpEntry<V> {
  key: string;
  /** The flush cycle that created the entry (a re-created entry starts over). */
  created: string;
  value: V;
}

/*
 * A dump of 10,000 processes is 4.7 MB: the histograms are read through one
 * Uint32Array over the whole buffer (no bounds check per number) and every
 * entry is one object literal (object spread cost as much as the rest).
 * Records are 8-byte multiples, so offsets stay 4-byte aligned.
 */
function hist(u32: Uint32Array, at: number): number[] {
  const out = new Array<number>(SCHED_SLOTS);
  const first = at >>> 2;
  for (let i = 0; i < SCHED_SLOTS; i++) out[i] = u32[first + i]!;
  return out;
}

function counts(buf: Buffer, u32: Uint32Array, at: number): RawCounts {
  return {
    oncpu: buf.readBigUInt64LE(at + COUNTS.oncpu),
    runDelay: buf.readBigUInt64LE(at + COUNTS.runDelay),
    nvcsw: buf.readBigUInt64LE(at + COUNTS.nvcsw),
    nivcsw: buf.readBigUInt64LE(at + COUNTS.nivcsw),
    waits: buf.readBigUInt64LE(at + COUNTS.waits),
    waitNs: buf.readBigUInt64LE(at + COUNTS.waitNs),
    histWakeup: hist(u32, at + COUNTS.histWakeup),
    histPreempt: hist(u32, at + COUNTS.histPreempt),
  };
}

function proc(buf: Buffer, u32: Uint32Array, at: number): RawProc {
  const c = at + PROC.counts;
  let end = at + PROC.comm;
  while (end < at + PROC.comm + 16 && buf[end] !== 0) end++;
  return {
    oncpu: buf.readBigUInt64LE(c + COUNTS.oncpu),
    runDelay: buf.readBigUInt64LE(c + COUNTS.runDelay),
    nvcsw: buf.readBigUInt64LE(c + COUNTS.nvcsw),
    nivcsw: buf.readBigUInt64LE(c + COUNTS.nivcsw),
    waits: buf.readBigUInt64LE(c + COUNTS.waits),
    waitNs: buf.readBigUInt64LE(c + COUNTS.waitNs),
    histWakeup: hist(u32, c + COUNTS.histWakeup),
    histPreempt: hist(u32, c + COUNTS.histPreempt),
    comm: buf.toString('utf8', at + PROC.comm, end),
    cgroupId: buf.readBigUInt64LE(at + PROC.cgroupId).toString(),
    maxWaitNs: buf.readBigUInt64LE(at + PROC.maxWaitNs),
    maxCycle: buf.readBigUInt64LE(at + PROC.maxCycle),
    threads: u32[(at + PROC.threads) >>> 2]!,
    threadsCycle: buf.readBigUInt64LE(at + PROC.threadsCycle),
    exited: u32[(at + PROC.exited) >>> 2] !== 0,
  };
}

/** buf, 4-byte aligned (a pooled Buffer may start anywhere), and a Uint32Array over it. */
function aligned(input: Buffer): { buf: Buffer; u32: Uint32Array } {
  const buf = input.byteOffset % 4 === 0 ? input : Buffer.from(input);
  return { buf, u32: new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2) };
}

export interface RawCpu {
  cpu: number;
  switches: bigint;
  waitNs: bigint;
}

const STRUCT_NAMES: Record<number, string> = { [REC_PROC]: 'struct sched_proc', [REC_CGROUP]: 'struct sched_counts', [REC_CPU]: 'struct sched_cpu' };
const SIZES: Record<number, number> = { [REC_PROC]: PROC.size, [REC_CGROUP]: COUNTS.size, [REC_CPU]: CPU.size };

/** Decode one read of the dump link; an entry written twice keeps its last record. CPUs come sorted. */
export function decodeDump(input: Buffer): { procs: Array<DumpEntry<RawProc>>; cgroups: Array<DumpEntry<RawCounts>>; cpus: RawCpu[] } {
  const { buf, u32 } = aligned(input);
  const procs = new Map<string, DumpEntry<RawProc>>();
  const cgroups = new Map<string, DumpEntry<RawCounts>>();
  const cpus = new Map<number, RawCpu>();
  for (let at = 0; at < buf.length; ) {
    if (at + REC_HEADER > buf.length) throw new Error(`sched dump: a record header cut at byte ${at} of ${buf.length}`);
    const kind = buf.readUInt32LE(at);
    const size = buf.readUInt32LE(at + 4);
    const key = buf.readBigUInt64LE(at + 8).toString();
    const body = at + REC_HEADER;
    const expected = SIZES[kind];
    if (expected === undefined) throw new Error(`sched dump: unknown record kind ${kind} at byte ${at}`);
    if (size !== expected) {
      throw new Error(
        `sched dump: expected a ${STRUCT_NAMES[kind]} of ${expected} bytes, got ${size}: ` +
          'bpf/sched.bpf.o and this build disagree on bpf/sched.h (npm run build:bpf, npm run build)',
      );
    }
    if (body + size > buf.length) throw new Error(`sched dump: a record cut at byte ${at} of ${buf.length}`);
    if (kind === REC_CPU) {
      const cpu = Number(key);
      cpus.set(cpu, { cpu, switches: buf.readBigUInt64LE(body + CPU.switches), waitNs: buf.readBigUInt64LE(body + CPU.waitNs) });
      at = body + size;
      continue;
    }
    const created = buf.readBigUInt64LE(body + (kind === REC_PROC ? PROC.counts : 0) + COUNTS.created).toString();
    if (kind === REC_PROC) procs.set(key, { key, created, value: proc(buf, u32, body) });
    else cgroups.set(key, { key, created, value: counts(buf, u32, body) });
    at = body + size;
  }
  return { procs: [...procs.values()], cgroups: [...cgroups.values()], cpus: [...cpus.values()].sort((a, b) => a.cpu - b.cpu) };
}
