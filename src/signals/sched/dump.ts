/**
 * The output of the sched object's `dump` iterator (bpf/sched.h: struct
 * sched_rec, then the entry as stored in its map): indexed, and turned into
 * interval deltas against the previous read (dumpDeltas, the reader's path),
 * or decoded into the same entries as a bpftool dump of sched_procs and
 * sched_cgroups (decodeDump, which tests compare with bpftool). Offsets follow
 * the C layout (naturally aligned, little-endian); every record carries its
 * entry's size, checked here, so an object built for another layout fails
 * loudly instead of being misread.
 */
import type { RawCounts, RawProc } from './bpf.js';
import type { SchedCgroupDelta, SchedCounts, SchedProcDelta } from './record.js';

/** Values of bpf/sched.h. */
const SCHED_SLOTS = 40;
const REC_PROC = 1;
const REC_CGROUP = 2;
const REC_CPU = 3;
const REC_PROC_SPARSE = 4;
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

/** struct sched_proc: four u64, two u32, char comm[16], struct sched_counts, then struct sched_hist_mask (not read here). */
const PROC = {
  cgroupId: 0,
  maxWaitNs: 8,
  maxCycle: 16,
  threadsCycle: 24,
  threads: 32,
  exited: 36,
  comm: 40,
  counts: 56,
  nonzero: 56 + COUNTS.size,
  size: 56 + COUNTS.size + 16,
};

/**
 * A SCHED_REC_PROC_SPARSE record (bpf/sched.h): the struct sched_proc up to
 * its histograms (HEAD bytes), struct sched_hist_mask (two u64: bit k of
 * `wakeup` says hist_wakeup[k] follows, likewise `preempt`), then the
 * non-zero slots in slot order, wakeup first, as u32, padded to 8 bytes.
 */
const SPARSE = { head: PROC.counts + COUNTS.histWakeup, masks: 16 };
/** Words of a sparse record's head, masks, and where its values start. */
const SW = { head: SPARSE.head >>> 2, masks: SPARSE.head >>> 2, vals: (SPARSE.head + SPARSE.masks) >>> 2 };

/**
 * The C structs read here, by their bpf/sched.h names: byte offsets of the
 * members used, and sizes. A test checks them against the BTF of
 * bpf/sched.bpf.o, so a layout change in C cannot go unnoticed here.
 */
export const SCHED_LAYOUT = {
  sched_cpu: { size: CPU.size, members: { switches: CPU.switches, wait_ns: CPU.waitNs } },
  sched_counts: {
    size: COUNTS.size,
    members: {
      created: COUNTS.created,
      oncpu_ns: COUNTS.oncpu,
      run_delay_ns: COUNTS.runDelay,
      nvcsw: COUNTS.nvcsw,
      nivcsw: COUNTS.nivcsw,
      waits: COUNTS.waits,
      wait_ns: COUNTS.waitNs,
      hist_wakeup: COUNTS.histWakeup,
      hist_preempt: COUNTS.histPreempt,
    },
  },
  sched_proc: {
    size: PROC.size,
    members: {
      cgroup_id: PROC.cgroupId,
      max_wait_ns: PROC.maxWaitNs,
      max_cycle: PROC.maxCycle,
      threads_cycle: PROC.threadsCycle,
      threads: PROC.threads,
      exited: PROC.exited,
      comm: PROC.comm,
      c: PROC.counts,
      nonzero: PROC.nonzero,
    },
  },
} as const;

/** struct sched_hist_mask of the sparse record (the CO-RE object only: its compat variant writes full records). */
export const SCHED_SPARSE_LAYOUT = {
  sched_hist_mask: { size: SPARSE.masks, members: { wakeup: 0, preempt: 8 } },
} as const;

export interface DumpEntry<V> {
  key: string;
  /** The flush cycle that created the entry (a re-created entry starts over). */
  created: string;
  value: V;
}

/* Records are 8-byte multiples, so offsets stay 4-byte aligned for the Uint32Array over the buffer. */
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

/** The two histograms of the sparse record at byte `at`, expanded. */
function sparseHists(u32: Uint32Array, at: number): { wakeup: number[]; preempt: number[] } {
  const full = new Array<number>(2 * SCHED_SLOTS).fill(0);
  const w = at >>> 2;
  forSparse(u32, w, (slot, k) => (full[slot] = u32[k]!));
  return { wakeup: full.slice(0, SCHED_SLOTS), preempt: full.slice(SCHED_SLOTS) };
}

/**
 * Each slot a sparse record at word w holds, in order: its index in the two
 * histograms taken as one (wakeup 0-39, preempt 40-79), and the word of its
 * value.
 */
function forSparse(u32: Uint32Array, w: number, f: (slot: number, k: number) => void): void {
  let k = w + SW.vals;
  for (let m = 0; m < 4; m++) {
    let bits = u32[w + SW.masks + m]!;
    const base = (m >>> 1) * SCHED_SLOTS + (m & 1) * 32;
    while (bits !== 0) {
      f(base + 31 - Math.clz32(bits & -bits), k++);
      bits &= bits - 1;
    }
  }
}

function proc(buf: Buffer, u32: Uint32Array, at: number, sparse = false): RawProc {
  const c = at + PROC.counts;
  const h = sparse ? sparseHists(u32, at) : undefined;
  let end = at + PROC.comm;
  while (end < at + PROC.comm + 16 && buf[end] !== 0) end++;
  return {
    oncpu: buf.readBigUInt64LE(c + COUNTS.oncpu),
    runDelay: buf.readBigUInt64LE(c + COUNTS.runDelay),
    nvcsw: buf.readBigUInt64LE(c + COUNTS.nvcsw),
    nivcsw: buf.readBigUInt64LE(c + COUNTS.nivcsw),
    waits: buf.readBigUInt64LE(c + COUNTS.waits),
    waitNs: buf.readBigUInt64LE(c + COUNTS.waitNs),
    histWakeup: h?.wakeup ?? hist(u32, c + COUNTS.histWakeup),
    histPreempt: h?.preempt ?? hist(u32, c + COUNTS.histPreempt),
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

const STRUCT_NAMES: Record<number, string> = {
  [REC_PROC]: 'struct sched_proc',
  [REC_CGROUP]: 'struct sched_counts',
  [REC_CPU]: 'struct sched_cpu',
  [REC_PROC_SPARSE]: 'sparse struct sched_proc',
};
const SIZES: Record<number, number> = { [REC_PROC]: PROC.size, [REC_CGROUP]: COUNTS.size, [REC_CPU]: CPU.size };

const TWO32 = 4294967296;

/**
 * One read of the dump link, checked and indexed, not decoded: where each
 * entry's value starts. An entry written twice keeps its last record. CPUs
 * come sorted.
 */
export interface DumpIndex {
  buf: Buffer;
  u32: Uint32Array;
  /** tgid -> byte offset of its struct sched_proc. */
  procs: Map<number, number>;
  /** The same in record order, tgid then offset, when no process came twice (else undefined: use procs). */
  procList?: number[];
  /** cgroup id (decimal) -> byte offset of its struct sched_counts. */
  cgroups: Map<string, number>;
  cpus: RawCpu[];
  /** The processes come as SCHED_REC_PROC_SPARSE records (the CO-RE object), not SCHED_REC_PROC (its compat variant). */
  sparse: boolean;
}

const popcount = (x: number): number => {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
};

/** The size a sparse record at word w must have, from its masks (which must name slots below SCHED_SLOTS only). */
function sparseSize(u32: Uint32Array, w: number, at: number): number {
  const m = w + SW.masks;
  if (u32[m + 1]! >>> (SCHED_SLOTS - 32) !== 0 || u32[m + 3]! >>> (SCHED_SLOTS - 32) !== 0) {
    throw new Error(`sched dump: a sparse process record at byte ${at} names histogram slots beyond ${SCHED_SLOTS - 1}`);
  }
  const n = popcount(u32[m]!) + popcount(u32[m + 1]!) + popcount(u32[m + 2]!) + popcount(u32[m + 3]!);
  return SPARSE.head + SPARSE.masks + 4 * (n + (n & 1));
}

/**
 * The sparse process record at byte `at`, when it is one and whole: indexed
 * in procs, and the byte after it; else -1 (indexDump's general path checks
 * it and says what is wrong). A function of its own, called per record: the
 * common record is indexed by optimized code from the first read on.
 */
function sparseProcAt(u32: Uint32Array, at: number, len: number, procs: Map<number, number>, list: number[]): number {
  const body = at + REC_HEADER;
  if (body + SPARSE.head + SPARSE.masks > len) return -1;
  const w = at >>> 2;
  if (u32[w] !== REC_PROC_SPARSE) return -1;
  const m = (body >>> 2) + SW.masks;
  if (u32[m + 1]! >>> (SCHED_SLOTS - 32) !== 0 || u32[m + 3]! >>> (SCHED_SLOTS - 32) !== 0) return -1;
  const n = slotsOf(u32, m);
  const size = u32[w + 1]!;
  if (size !== SPARSE.head + SPARSE.masks + 4 * (n + (n & 1)) || body + size > len) return -1;
  const tgid = u32[w + 2]! + u32[w + 3]! * TWO32;
  procs.set(tgid, body);
  list.push(tgid, body);
  return body + size;
}

export function indexDump(input: Buffer): DumpIndex {
  const { buf, u32 } = aligned(input);
  const procs = new Map<number, number>();
  const list: number[] = [];
  let full = false;
  let sparse = false;
  const cgroups = new Map<string, number>();
  const cpus = new Map<number, RawCpu>();
  for (let at = 0; at < buf.length;) {
    if (!full) {
      const next = sparseProcAt(u32, at, buf.length, procs, list);
      if (next > 0) {
        sparse = true;
        at = next;
        continue;
      }
    }
    if (at + REC_HEADER > buf.length) throw new Error(`sched dump: a record header cut at byte ${at} of ${buf.length}`);
    const w = at >>> 2;
    const kind = u32[w]!;
    const size = u32[w + 1]!;
    const body = at + REC_HEADER;
    let expected = SIZES[kind];
    if (kind === REC_PROC_SPARSE) {
      if (body + SPARSE.head + SPARSE.masks > buf.length) throw new Error(`sched dump: a record cut at byte ${at} of ${buf.length}`);
      expected = sparseSize(u32, body >>> 2, at);
    }
    if (expected === undefined) throw new Error(`sched dump: unknown record kind ${kind} at byte ${at}`);
    if (size !== expected) {
      throw new Error(
        `sched dump: expected a ${STRUCT_NAMES[kind]} of ${expected} bytes, got ${size}: ` +
          'bpf/sched.bpf.o and this build disagree on bpf/sched.h (npm run build:bpf, npm run build)',
      );
    }
    if (body + size > buf.length) throw new Error(`sched dump: a record cut at byte ${at} of ${buf.length}`);
    if (kind === REC_PROC || kind === REC_PROC_SPARSE) {
      if (kind === REC_PROC) full = true;
      else sparse = true;
      if (full && sparse) throw new Error(`sched dump: both full and sparse process records (byte ${at}): one object wrote both?`);
      const tgid = u32[w + 2]! + u32[w + 3]! * TWO32;
      procs.set(tgid, body);
      list.push(tgid, body);
    } else if (kind === REC_CGROUP) cgroups.set(buf.readBigUInt64LE(at + 8).toString(), body);
    else {
      const cpu = u32[w + 2]!;
      cpus.set(cpu, { cpu, switches: buf.readBigUInt64LE(body + CPU.switches), waitNs: buf.readBigUInt64LE(body + CPU.waitNs) });
    }
    at = body + size;
  }
  const procList = list.length === 2 * procs.size ? list : undefined;
  return { buf, u32, procs, procList, cgroups, cpus: [...cpus.values()].sort((a, b) => a.cpu - b.cpu), sparse };
}

/** Decode one read of the dump link entry by entry (what bpftool's JSON of the maps holds; tests compare the two). */
export function decodeDump(input: Buffer): { procs: Array<DumpEntry<RawProc>>; cgroups: Array<DumpEntry<RawCounts>>; cpus: RawCpu[] } {
  const { buf, u32, procs, cgroups, cpus, sparse } = indexDump(input);
  const created = (c: number): string => buf.readBigUInt64LE(c + COUNTS.created).toString();
  return {
    procs: [...procs].map(([tgid, at]) => ({ key: String(tgid), created: created(at + PROC.counts), value: proc(buf, u32, at, sparse) })),
    cgroups: [...cgroups].map(([key, at]) => ({ key, created: created(at), value: counts(buf, u32, at) })),
    cpus,
  };
}

/*
 * Interval deltas straight from the dump's records, against the last reading
 * of each entry (LastReadings: the entry's words as last written; nothing
 * read before: it counts from zero). The dump writes only entries changed
 * since the previous read (bpf/sched.bpf.c), so an entry a read does not
 * hold did not change. 64-bit counters are subtracted as pairs of 32-bit
 * words (the difference is exact while below 2^53, whatever the totals), the
 * histograms' differences go into one Uint32Array per read, and an entry
 * with nothing new costs a few comparisons. At 10,000 processes this is what
 * keeps a read from allocating (and collecting) a decoded copy of every
 * entry twice.
 */

/** The kernel side deletes an entry idle for two cycles; one not written for this many reads is forgotten. */
const FORGET_AFTER_READS = 4;

/**
 * The last reading of every entry of one kind (process or cgroup), `words`
 * 32-bit words each, in one growing array: keeping a reading copies it in
 * place, so a read allocates nothing per entry once the array has grown.
 */
export class Readings<K> {
  private slots = new Map<K, number>();
  private free: number[] = [];
  private arena: Uint32Array;
  private seen: Float64Array;

  constructor(readonly words: number) {
    this.arena = new Uint32Array(64 * words);
    this.seen = new Float64Array(64);
  }

  /** The word offset in `array` of key's reading, or undefined. */
  at(key: K): number | undefined {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : slot * this.words;
  }

  get array(): Uint32Array {
    return this.arena;
  }

  get size(): number {
    return this.slots.size;
  }

  /** The word offset of key's reading, made when missing, marked as written by read `read` (the caller writes it). */
  slot(key: K, read: number): number {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.slots.size;
      if ((slot + 1) * this.words > this.arena.length) this.grow();
      this.slots.set(key, slot);
    }
    this.seen[slot] = read;
    return slot * this.words;
  }

  /** The reading at word offset `at` (from at()), marked as written by read `read`: slot() without the lookup. */
  touch(at: number, read: number): number {
    this.seen[at / this.words] = read;
    return at;
  }

  /** Keep words [w, w + words) of u32 as key's reading, written by read `read`. */
  keep(key: K, u32: Uint32Array, w: number, read: number): void {
    const base = this.slot(key, read);
    const a = this.arena;
    for (let i = 0; i < this.words; i++) a[base + i] = u32[w + i]!;
  }

  /** Make room for `n` more readings at once (one allocation for a read of 10,000 new entries, not eight). */
  reserve(n: number): void {
    const slots = this.slots.size - this.free.length + n;
    if (slots * this.words <= this.arena.length) return;
    let len = this.seen.length;
    while (len < slots) len *= 2;
    this.resize(len);
  }

  /** Forget readings no read wrote since `before`. */
  forget(before: number): void {
    for (const [k, slot] of this.slots) {
      if (this.seen[slot]! < before) {
        this.slots.delete(k);
        this.free.push(slot);
      }
    }
  }

  private grow(): void {
    this.resize(this.seen.length * 2);
  }

  private resize(slots: number): void {
    const arena = new Uint32Array(slots * this.words);
    arena.set(this.arena);
    this.arena = arena;
    const seen = new Float64Array(slots);
    seen.set(this.seen);
    this.seen = seen;
  }
}

/**
 * Non-zero histogram slots a sparse process reading keeps in place; a process
 * with more keeps them in LastReadings.overflow. Most processes of a big host
 * have a few (one, for a process that ran once): a reading is then 192 bytes,
 * not the 472 of its histograms expanded, and 10,000 new processes touch 2 MB
 * of fresh memory instead of 5 (about 0.7 ms per MB here).
 */
const INLINE_SLOTS = 10;

/** The last reading of every process and cgroup entry the dump wrote, kept until the kernel side deletes it. */
export class LastReadings {
  readonly procs = new Readings<number>(PROC.size >>> 2);
  readonly cgroups = new Readings<string>(COUNTS.size >>> 2);
  /** Processes read from sparse records: the record's head and masks, then its non-zero slots when they fit (INLINE_SLOTS). */
  readonly sparseProcs = new Readings<number>(SW.vals + INLINE_SLOTS);
  /** The non-zero slots of the sparse readings that hold more than INLINE_SLOTS, by tgid. */
  readonly overflow = new Map<number, Uint32Array>();
  reads = 0;

  /** Forget entries no read wrote for FORGET_AFTER_READS reads (deleted by the kernel side by then). */
  prune(): void {
    this.procs.forget(this.reads - FORGET_AFTER_READS);
    this.sparseProcs.forget(this.reads - FORGET_AFTER_READS);
    this.cgroups.forget(this.reads - FORGET_AFTER_READS);
    for (const k of this.overflow.keys()) if (this.sparseProcs.at(k) === undefined) this.overflow.delete(k);
  }
}

/** cur - prev of the u64 at word index c of cu and p of pu (no prev: the value). */
function d64(cu: Uint32Array, c: number, pu: Uint32Array | undefined, p: number): number {
  return pu === undefined ? cu[c + 1]! * TWO32 + cu[c]! : (cu[c + 1]! - pu[p + 1]!) * TWO32 + (cu[c]! - pu[p]!);
}

const W = {
  created: COUNTS.created >>> 2,
  oncpu: COUNTS.oncpu >>> 2,
  runDelay: COUNTS.runDelay >>> 2,
  nvcsw: COUNTS.nvcsw >>> 2,
  nivcsw: COUNTS.nivcsw >>> 2,
  waits: COUNTS.waits >>> 2,
  waitNs: COUNTS.waitNs >>> 2,
  hist: COUNTS.histWakeup >>> 2,
};

/** The histograms' deltas of the struct sched_counts at word c (prev at word p, or none), into out at o. */
function histDelta(cu: Uint32Array, c: number, pu: Uint32Array | undefined, p: number, out: Uint32Array, o: number): void {
  const h = c + W.hist;
  if (pu === undefined) {
    for (let i = 0; i < 2 * SCHED_SLOTS; i++) out[o + i] = cu[h + i]!;
  } else {
    const ph = p + W.hist;
    for (let i = 0; i < 2 * SCHED_SLOTS; i++) out[o + i] = cu[h + i]! - pu[ph + i]!; // the array wraps modulo 2^32
  }
}

/** The deltas of the struct sched_counts at word c (prev at word p, or none); the histograms' go into out at o. */
function countsDelta(cu: Uint32Array, c: number, pu: Uint32Array | undefined, p: number, out: Uint32Array, o: number): SchedCounts {
  histDelta(cu, c, pu, p, out, o);
  return {
    oncpuNs: d64(cu, c + W.oncpu, pu, p + W.oncpu),
    runDelayNs: d64(cu, c + W.runDelay, pu, p + W.runDelay),
    nvcsw: d64(cu, c + W.nvcsw, pu, p + W.nvcsw),
    nivcsw: d64(cu, c + W.nivcsw, pu, p + W.nivcsw),
    waits: d64(cu, c + W.waits, pu, p + W.waits),
    waitNs: d64(cu, c + W.waitNs, pu, p + W.waitNs),
    histWakeup: out.subarray(o, o + SCHED_SLOTS),
    histPreempt: out.subarray(o + SCHED_SLOTS, o + 2 * SCHED_SLOTS),
  };
}

/** The u64 at word f of the counts at c (cu) and p (pu, or zero) are equal. */
function same64(cu: Uint32Array, c: number, pu: Uint32Array | undefined, p: number, f: number): boolean {
  return pu === undefined ? cu[c + f] === 0 && cu[c + f + 1] === 0 : cu[c + f] === pu[p + f] && cu[c + f + 1] === pu[p + f + 1];
}

/** Nothing ran, waited or switched between the two readings of the counts at words c and p. */
function idle(cu: Uint32Array, c: number, pu: Uint32Array | undefined, p: number): boolean {
  return (
    same64(cu, c, pu, p, W.oncpu) &&
    same64(cu, c, pu, p, W.runDelay) &&
    same64(cu, c, pu, p, W.nvcsw) &&
    same64(cu, c, pu, p, W.nivcsw) &&
    same64(cu, c, pu, p, W.waits)
  );
}

/** The previous reading of the entry at word p of pu, when it is the same entry (not deleted and re-created since). */
function sameEntry(cu: Uint32Array, c: number, pu: Uint32Array, p: number | undefined): boolean {
  return p !== undefined && cu[c + W.created] === pu[p + W.created] && cu[c + W.created + 1] === pu[p + W.created + 1];
}

const u64At = (u: Uint32Array, w: number): number => u[w + 1]! * TWO32 + u[w]!;

/** Word of a process record's struct sched_counts. */
const PC = PROC.counts >>> 2;

/** Cgroup ids as decimal strings, made once per id (exact for ids below 2^53; larger ones go through BigInt). */
const cgroupNames = new Map<number, string>();
function cgroupIdAt(buf: Buffer, u32: Uint32Array, at: number): string {
  const w = at >>> 2;
  if (u32[w + 1]! >= 1 << 21) return buf.readBigUInt64LE(at).toString();
  const id = u64At(u32, w);
  let s = cgroupNames.get(id);
  if (s === undefined) {
    if (cgroupNames.size > 65536) cgroupNames.clear();
    cgroupNames.set(id, (s = String(id)));
  }
  return s;
}

/** A comm as the kernel stores it (16 bytes, NUL-terminated): its four words, and the string. */
interface Comm {
  w0: number;
  w1: number;
  w2: number;
  w3: number;
  s: string;
}

/**
 * Comms made into strings once per distinct name: at 10,000 new processes a
 * read would otherwise cross into C++ (Buffer#toString) 10,000 times for a
 * handful of names. Keyed by a hash of the four words, checked on a hit.
 */
const comms = new Map<number, Comm>();

function commAt(buf: Buffer, u32: Uint32Array, at: number): string {
  const w = at >>> 2;
  const w0 = u32[w]!;
  const w1 = u32[w + 1]!;
  const w2 = u32[w + 2]!;
  const w3 = u32[w + 3]!;
  const h = (Math.imul(w0, 0x9e3779b1) ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35) ^ Math.imul(w3, 0x27d4eb2f)) >>> 0;
  const c = comms.get(h);
  if (c !== undefined && c.w0 === w0 && c.w1 === w1 && c.w2 === w2 && c.w3 === w3) return c.s;
  let end = at;
  while (end < at + 16 && buf[end] !== 0) end++;
  const s = buf.toString('utf8', at, end);
  if (comms.size > 65536) comms.clear();
  comms.set(h, { w0, w1, w2, w3, s });
  return s;
}

/** What JSON.stringify and printing show of a process delta: every field, histograms included. */
function procJSON(d: SchedProcDelta & { histWakeup: Uint32Array; histPreempt: Uint32Array }): SchedProcDelta {
  const { pid, comm, cgroupId, maxWaitNs, threads, exited, oncpuNs, runDelayNs, nvcsw, nivcsw, waits, waitNs } = d;
  const histWakeup = [...d.histWakeup];
  const histPreempt = [...d.histPreempt];
  return { pid, comm, cgroupId, maxWaitNs, threads, exited, oncpuNs, runDelayNs, nvcsw, nivcsw, waits, waitNs, histWakeup, histPreempt };
}

/*
 * Two classes of one process's interval delta, by where their histograms
 * are; no common base class: a derived class's constructor is several times
 * slower before V8 optimizes it, and the first large read makes 10,000.
 */

/** Histograms as views of the read's shared array of every process's 2 * SCHED_SLOTS deltas (full records). */
class DenseProcDelta implements SchedProcDelta {
  constructor(
    readonly pid: number,
    readonly comm: string,
    readonly cgroupId: string,
    readonly maxWaitNs: number | undefined,
    readonly threads: number,
    readonly exited: boolean,
    readonly oncpuNs: number,
    readonly runDelayNs: number,
    readonly nvcsw: number,
    readonly nivcsw: number,
    readonly waits: number,
    readonly waitNs: number,
    private readonly hists: Uint32Array,
    private readonly histAt: number,
  ) {}

  get histWakeup(): Uint32Array {
    return this.hists.subarray(this.histAt, this.histAt + SCHED_SLOTS);
  }

  get histPreempt(): Uint32Array {
    return this.hists.subarray(this.histAt + SCHED_SLOTS, this.histAt + 2 * SCHED_SLOTS);
  }

  toJSON(): SchedProcDelta {
    return procJSON(this);
  }
}

/**
 * Histograms kept as the read's (slot, delta) pairs [from, to) of the
 * non-zero slots (sparse records), expanded when a consumer asks: most
 * consumers want only the sum over every process (SchedDelta.procHist), and
 * at 10,000 new processes expanding each one's histograms was a fifth of a
 * read.
 */
class SparseProcDelta implements SchedProcDelta {
  private expanded?: Uint32Array;

  constructor(
    readonly pid: number,
    readonly comm: string,
    readonly cgroupId: string,
    readonly maxWaitNs: number | undefined,
    readonly threads: number,
    readonly exited: boolean,
    readonly oncpuNs: number,
    readonly runDelayNs: number,
    readonly nvcsw: number,
    readonly nivcsw: number,
    readonly waits: number,
    readonly waitNs: number,
    private readonly pairs: Uint32Array,
    private readonly from: number,
    private readonly to: number,
  ) {}

  private hists(): Uint32Array {
    if (this.expanded === undefined) {
      const h = new Uint32Array(2 * SCHED_SLOTS);
      for (let k = this.from; k < this.to; k += 2) h[this.pairs[k]!] = this.pairs[k + 1]!;
      this.expanded = h;
    }
    return this.expanded;
  }

  get histWakeup(): Uint32Array {
    return this.hists().subarray(0, SCHED_SLOTS);
  }

  get histPreempt(): Uint32Array {
    return this.hists().subarray(SCHED_SLOTS);
  }

  toJSON(): SchedProcDelta {
    return procJSON(this);
  }
}

/** The histograms' deltas of a process at word c (prev at word p, or none) into out at o, and added to the sums. */
function procHistDelta(
  cu: Uint32Array,
  c: number,
  pu: Uint32Array | undefined,
  p: number,
  out: Uint32Array,
  o: number,
  sum: Uint32Array,
): void {
  const h = c + W.hist;
  if (pu === undefined) {
    for (let i = 0; i < 2 * SCHED_SLOTS; i++) {
      const v = cu[h + i]!;
      out[o + i] = v;
      sum[i] = sum[i]! + v;
    }
  } else {
    const ph = p + W.hist;
    for (let i = 0; i < 2 * SCHED_SLOTS; i++) {
      const v = (cu[h + i]! - pu[ph + i]!) >>> 0; // the array wraps modulo 2^32
      out[o + i] = v;
      sum[i] = sum[i]! + v;
    }
  }
}

/** The number of slots the masks at word m of u name. */
const slotsOf = (u: Uint32Array, m: number): number => popcount(u[m]!) + popcount(u[m + 1]!) + popcount(u[m + 2]!) + popcount(u[m + 3]!);

/** The slot values of the sparse reading at word pb of pa (key's, in `last.sparseProcs`): pa itself, or its overflow. */
function lastValues(last: LastReadings, key: number, pa: Uint32Array, pb: number): Uint32Array {
  if (slotsOf(pa, pb + SW.masks) <= INLINE_SLOTS) return pa;
  return last.overflow.get(key) ?? new Uint32Array(2 * SCHED_SLOTS);
}

/**
 * The histograms' deltas of the sparse record at word w against its last
 * reading (at word pw of pu, its values in pa: in place, or from word 0 of
 * its overflow; or none) as (slot, delta)
 * pairs into `pairs` from `o`, added to the sums: the slots either of the two
 * names, walked together in slot order (a slot only the last reading names
 * went to zero modulo 2^32). Returns where the pairs end.
 */
function sparseHistDelta(
  cu: Uint32Array,
  w: number,
  pu: Uint32Array | undefined,
  pw: number,
  pa: Uint32Array | undefined,
  pairs: Uint32Array,
  o: number,
  sum: Uint32Array,
): number {
  let kc = w + SW.vals;
  let kp = pa === pu ? pw + SW.vals : 0;
  for (let m = 0; m < 4; m++) {
    const cb = cu[w + SW.masks + m]!;
    const pb = pu === undefined ? 0 : pu[pw + SW.masks + m]!;
    let both = cb | pb;
    const base = (m >>> 1) * SCHED_SLOTS + (m & 1) * 32;
    while (both !== 0) {
      const low = both & -both;
      both ^= low;
      const c = (cb & low) !== 0 ? cu[kc++]! : 0;
      const p = (pb & low) !== 0 ? pa![kp++]! : 0;
      const v = (c - p) >>> 0; // counts wrap modulo 2^32
      if (v !== 0) {
        const i = base + 31 - Math.clz32(low);
        pairs[o++] = i;
        pairs[o++] = v;
        sum[i] = sum[i]! + v;
      }
    }
  }
  return o;
}

/**
 * Keep the sparse record at word w as key's reading: its head and masks, and its slot values (in place when
 * they fit). `at`: where key's reading is, when the caller looked it up.
 */
function keepSparse(last: LastReadings, key: number, cu: Uint32Array, w: number, read: number, at: number | undefined): void {
  const r = last.sparseProcs;
  const base = at === undefined ? r.slot(key, read) : r.touch(at, read);
  const a = r.array;
  for (let i = 0; i < SW.vals; i++) a[base + i] = cu[w + i]!;
  const n = slotsOf(cu, w + SW.masks);
  const v = w + SW.vals;
  if (n <= INLINE_SLOTS) {
    for (let i = 0; i < n; i++) a[base + SW.vals + i] = cu[v + i]!;
    if (last.overflow.size !== 0) last.overflow.delete(key);
  } else {
    last.overflow.set(key, cu.slice(v, v + n));
  }
}

/** One read's pass over its process records: their deltas, the sums of their histograms, and the readings kept. */
class ProcPass {
  readonly procs: SchedProcDelta[] = [];
  readonly sum = new Uint32Array(2 * SCHED_SLOTS);
  private readonly buf: Buffer;
  private readonly cu: Uint32Array;
  private readonly sparse: boolean;
  private readonly readings: Readings<number>;
  /** Full records: every process's two histograms, handed out as views. */
  private readonly out: Uint32Array;
  private o = 0;
  /** Sparse records: (slot, delta) pairs of the non-zero slots, grown as needed. */
  private pairs: Uint32Array;
  private po = 0;

  constructor(
    cur: DumpIndex,
    private readonly last: LastReadings,
    private readonly cycle: number,
  ) {
    this.buf = cur.buf;
    this.cu = cur.u32;
    this.sparse = cur.sparse;
    this.readings = cur.sparse ? last.sparseProcs : last.procs;
    this.readings.reserve(cur.procs.size);
    this.out = new Uint32Array(cur.sparse ? 0 : cur.procs.size * 2 * SCHED_SLOTS);
    this.pairs = new Uint32Array(cur.sparse ? 4 * cur.procs.size + 4 * 2 * SCHED_SLOTS : 0);
  }

  /** The process record at byte `at` (a Map#forEach callback). */
  visit(at: number, tgid: number): void {
    const { cu, readings, last } = this;
    const w = at >>> 2;
    const c = w + PC;
    const pa = readings.array;
    const pw = readings.at(tgid);
    const pv = pw !== undefined && sameEntry(cu, c, pa, pw + PC) ? pa : undefined;
    const p = (pw ?? 0) + PC;
    const exited = cu[w + (PROC.exited >>> 2)] !== 0;
    const exitedNow = exited && !(pv !== undefined && pv[pw! + (PROC.exited >>> 2)] !== 0);
    if (!idle(cu, c, pv, p) || exitedNow) {
      const { buf, cycle } = this;
      const comm = commAt(buf, cu, at + PROC.comm);
      const cgroupId = cgroupIdAt(buf, cu, at + PROC.cgroupId);
      const maxWaitNs = u64At(cu, w + (PROC.maxCycle >>> 2)) === cycle ? u64At(cu, w + (PROC.maxWaitNs >>> 2)) : undefined;
      const threads = u64At(cu, w + (PROC.threadsCycle >>> 2)) === cycle ? cu[w + (PROC.threads >>> 2)]! : 0;
      const oncpu = d64(cu, c + W.oncpu, pv, p + W.oncpu);
      const runDelay = d64(cu, c + W.runDelay, pv, p + W.runDelay);
      const nvcsw = d64(cu, c + W.nvcsw, pv, p + W.nvcsw);
      const nivcsw = d64(cu, c + W.nivcsw, pv, p + W.nivcsw);
      const waits = d64(cu, c + W.waits, pv, p + W.waits);
      const waitNs = d64(cu, c + W.waitNs, pv, p + W.waitNs);
      if (this.sparse) {
        if (this.po + 4 * SCHED_SLOTS > this.pairs.length) {
          const more = new Uint32Array(2 * this.pairs.length);
          more.set(this.pairs);
          this.pairs = more;
        }
        const from = this.po;
        const values = pv && lastValues(last, tgid, pv, pw!);
        this.po = sparseHistDelta(cu, w, pv, pw ?? 0, values, this.pairs, from, this.sum);
        this.procs.push(
          new SparseProcDelta(
            tgid,
            comm,
            cgroupId,
            maxWaitNs,
            threads,
            exited,
            oncpu,
            runDelay,
            nvcsw,
            nivcsw,
            waits,
            waitNs,
            this.pairs,
            from,
            this.po,
          ),
        );
      } else {
        procHistDelta(cu, c, pv, p, this.out, this.o, this.sum);
        this.procs.push(
          new DenseProcDelta(
            tgid,
            comm,
            cgroupId,
            maxWaitNs,
            threads,
            exited,
            oncpu,
            runDelay,
            nvcsw,
            nivcsw,
            waits,
            waitNs,
            this.out,
            this.o,
          ),
        );
        this.o += 2 * SCHED_SLOTS;
      }
    }
    if (this.sparse) keepSparse(last, tgid, cu, w, last.reads, pw);
    else readings.keep(tgid, cu, w, last.reads);
  }
}

/**
 * What changed since the last reading of each entry (`last`, updated here):
 * processes and cgroups with activity, and processes whose last thread
 * exited since; and the sums of the processes' histograms. `cycle` is the
 * flush cycle that preceded `cur` (per-interval maxima and thread counts
 * carry the cycle that wrote them).
 */
export function dumpDeltas(
  cur: DumpIndex,
  last: LastReadings,
  cycle: number,
): { procs: SchedProcDelta[]; cgroups: SchedCgroupDelta[]; procHist: { wakeup: Uint32Array; preempt: Uint32Array } } {
  last.reads++;
  const pass = new ProcPass(cur, last, cycle);
  // A method called per entry (not one loop body): V8 optimizes a small function called 10,000 times
  // within the read, where a long loop in one call runs unoptimized until it is replaced on the stack.
  const list = cur.procList;
  if (list === undefined) cur.procs.forEach(pass.visit, pass);
  else for (let i = 0; i < list.length; i += 2) pass.visit(list[i + 1]!, list[i]!);
  const { procs, sum } = pass;
  const cu = cur.u32;
  // The cgroups' histograms (few entries): views of one array.
  const out = new Uint32Array(cur.cgroups.size * 2 * SCHED_SLOTS);
  let o = 0;
  const cgroups: SchedCgroupDelta[] = [];
  for (const [cgroupId, at] of cur.cgroups) {
    const c = at >>> 2;
    const pa = last.cgroups.array;
    const pw = last.cgroups.at(cgroupId);
    const pv = pw !== undefined && sameEntry(cu, c, pa, pw) ? pa : undefined;
    if (!idle(cu, c, pv, pw ?? 0)) {
      cgroups.push(Object.assign(countsDelta(cu, c, pv, pw ?? 0, out, o), { cgroupId }));
      o += 2 * SCHED_SLOTS;
    }
    last.cgroups.keep(cgroupId, cu, c, last.reads);
  }
  if (last.reads % FORGET_AFTER_READS === 0) last.prune();
  return { procs, cgroups, procHist: { wakeup: sum.subarray(0, SCHED_SLOTS), preempt: sum.subarray(SCHED_SLOTS) } };
}
