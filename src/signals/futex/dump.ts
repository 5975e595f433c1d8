/**
 * The output of futex.bpf.o's `dump` iterator (bpf/futex.h: struct futex_rec,
 * then the entry as stored in its map, or struct futex_end last): only the
 * entries changed since they were last written. Decoded here into the raw
 * entries the reader turns into deltas. Offsets follow the C layout
 * (naturally aligned, little-endian); every record carries its entry's size,
 * checked here, so an object built for another layout fails loudly instead
 * of being misread. A test checks the offsets against the object's BTF.
 */

/** Values of bpf/futex.h. */
const FUTEX_SLOTS = 40;
const REC_PROC = 1;
const REC_ADDR = 2;
const REC_END = 3;

/** struct futex_rec: kind, size, tgid, pad (u32), uaddr (u64). */
const REC = { kind: 0, size: 4, tgid: 8, uaddr: 16, bytes: 24 };

/** struct futex_proc: twelve u64, char comm[16], u32 hist[FUTEX_SLOTS]. */
const PROC = {
  created: 0,
  waits: 24,
  waitNs: 32,
  timeouts: 40,
  wakes: 48,
  woken: 56,
  maxWaitNs: 64,
  maxCycle: 80,
  cgroupId: 96,
  comm: 104,
  hist: 120,
  size: 120 + 4 * FUTEX_SLOTS,
};

/** struct futex_addr: eight u64 (waiting is signed). */
const ADDR = { created: 0, waits: 24, waitNs: 32, maxWaiters: 48, maxCycle: 64, size: 80 };

/** struct futex_end: four u64. */
const END = { cycle: 0, more: 8, procs: 16, addrs: 24, size: 32 };

/**
 * The map entries read here, by their bpf/futex.h names: byte offsets of the
 * members used, and sizes (struct futex_rec and futex_end are locals of the
 * iterator, absent from the object's BTF: their sizes are checked per record).
 */
export const FUTEX_LAYOUT = {
  futex_proc: {
    size: PROC.size,
    members: {
      created: PROC.created,
      waits: PROC.waits,
      wait_ns: PROC.waitNs,
      timeouts: PROC.timeouts,
      wakes: PROC.wakes,
      woken: PROC.woken,
      max_wait_ns: PROC.maxWaitNs,
      max_cycle: PROC.maxCycle,
      cgroup_id: PROC.cgroupId,
      comm: PROC.comm,
      hist: PROC.hist,
    },
  },
  futex_addr: {
    size: ADDR.size,
    members: { created: ADDR.created, waits: ADDR.waits, wait_ns: ADDR.waitNs, max_waiters: ADDR.maxWaiters, max_cycle: ADDR.maxCycle },
  },
};

export interface DumpedProc {
  tgid: number;
  created: bigint;
  waits: bigint;
  waitNs: bigint;
  timeouts: bigint;
  wakes: bigint;
  woken: bigint;
  maxWaitNs: [bigint, bigint];
  maxCycle: [bigint, bigint];
  cgroupId: bigint;
  comm: string;
  hist: Uint32Array;
}

export interface DumpedAddr {
  tgid: number;
  uaddr: bigint;
  created: bigint;
  waits: bigint;
  waitNs: bigint;
  maxWaiters: [bigint, bigint];
  maxCycle: [bigint, bigint];
}

export interface FutexDump {
  procs: DumpedProc[];
  addrs: DumpedAddr[];
  /** The cycle the pass ended; undefined when the object is not armed (no struct futex_end). */
  cycle?: bigint;
  /** Changed entries did not all fit: run the iterator again for the rest. */
  more: boolean;
  /** Entries in the maps after the pass. */
  entries: { procs: number; addrs: number };
}

const u64 = (b: Buffer, o: number): bigint => b.readBigUInt64LE(o);

/** Decode one run of the iterator (a view of its output, copied out). */
export function decodeFutexDump(buf: Buffer): FutexDump {
  const out: FutexDump = { procs: [], addrs: [], more: false, entries: { procs: 0, addrs: 0 } };
  let o = 0;
  while (o < buf.length) {
    if (buf.length - o < REC.bytes) throw new Error(`futex dump: ${buf.length - o} stray bytes at offset ${o}`);
    const kind = buf.readUInt32LE(o + REC.kind);
    const size = buf.readUInt32LE(o + REC.size);
    const v = o + REC.bytes;
    if (v + size > buf.length) throw new Error(`futex dump: record of ${size} bytes at offset ${o} runs past the end (${buf.length})`);
    const expect = kind === REC_PROC ? PROC.size : kind === REC_ADDR ? ADDR.size : kind === REC_END ? END.size : undefined;
    if (expect === undefined) throw new Error(`futex dump: unknown record kind ${kind} at offset ${o}`);
    if (size !== expect)
      throw new Error(`futex dump: record kind ${kind} has ${size} bytes, this build reads ${expect} (object and code disagree)`);
    if (kind === REC_PROC) {
      const comm = buf.subarray(v + PROC.comm, v + PROC.comm + 16);
      const nul = comm.indexOf(0);
      const hist = new Uint32Array(FUTEX_SLOTS);
      for (let i = 0; i < FUTEX_SLOTS; i++) hist[i] = buf.readUInt32LE(v + PROC.hist + 4 * i);
      out.procs.push({
        tgid: buf.readUInt32LE(o + REC.tgid),
        created: u64(buf, v + PROC.created),
        waits: u64(buf, v + PROC.waits),
        waitNs: u64(buf, v + PROC.waitNs),
        timeouts: u64(buf, v + PROC.timeouts),
        wakes: u64(buf, v + PROC.wakes),
        woken: u64(buf, v + PROC.woken),
        maxWaitNs: [u64(buf, v + PROC.maxWaitNs), u64(buf, v + PROC.maxWaitNs + 8)],
        maxCycle: [u64(buf, v + PROC.maxCycle), u64(buf, v + PROC.maxCycle + 8)],
        cgroupId: u64(buf, v + PROC.cgroupId),
        comm: comm.toString('utf8', 0, nul < 0 ? 16 : nul),
        hist,
      });
    } else if (kind === REC_ADDR) {
      out.addrs.push({
        tgid: buf.readUInt32LE(o + REC.tgid),
        uaddr: u64(buf, o + REC.uaddr),
        created: u64(buf, v + ADDR.created),
        waits: u64(buf, v + ADDR.waits),
        waitNs: u64(buf, v + ADDR.waitNs),
        maxWaiters: [u64(buf, v + ADDR.maxWaiters), u64(buf, v + ADDR.maxWaiters + 8)],
        maxCycle: [u64(buf, v + ADDR.maxCycle), u64(buf, v + ADDR.maxCycle + 8)],
      });
    } else {
      out.cycle = u64(buf, v + END.cycle);
      out.more = u64(buf, v + END.more) !== 0n;
      out.entries = { procs: Number(u64(buf, v + END.procs)), addrs: Number(u64(buf, v + END.addrs)) };
    }
    o = v + size;
  }
  return out;
}

/** Entries untouched this many cycles are removed by the kernel side (bpf/futex.bpf.c IDLE_CYCLES). */
export const FUTEX_IDLE_CYCLES = 30;

/**
 * The previous reading of each entry the iterator wrote, for deltas: an entry
 * not written has not changed (delta zero). Entries are forgotten a little
 * after the kernel side removes them (idle that long); one that comes back
 * has a new `created` and counts from zero.
 */
export class ChangedEntries<V extends { created: bigint }> {
  private prev = new Map<string, { value: V; seen: bigint }>();

  /** The previous reading of `key` (undefined when new or re-created), and remember `value`. */
  step(key: string, value: V, cycle: bigint): V | undefined {
    const before = this.prev.get(key);
    this.prev.set(key, { value, seen: cycle });
    return before && before.value.created === value.created ? before.value : undefined;
  }

  /** Forget entries the kernel side has removed by now. */
  prune(cycle: bigint): void {
    for (const [k, e] of this.prev) if (e.seen + BigInt(FUTEX_IDLE_CYCLES) + 2n < cycle) this.prev.delete(k);
  }

  /** Forget every entry not in `keys` (a whole dump: what is not in it is gone). */
  keepOnly(keys: ReadonlySet<string>): void {
    for (const k of this.prev.keys()) if (!keys.has(k)) this.prev.delete(k);
  }

  get size(): number {
    return this.prev.size;
  }
}
