/**
 * The output of io_dump.bpf.o's `dump` iterator (bpf/io.h: struct io_rec,
 * then the entry as stored in io_devs or io_procs, or struct io_end last):
 * only the entries changed since they were last written. Offsets follow the
 * C layout (naturally aligned, little-endian); every record carries its
 * entry's size, checked here, so an object built for another layout fails
 * loudly instead of being misread. A test checks the offsets against the
 * object's BTF.
 */
import type { MaxSlots } from '../cumulative.js';

/** Values of bpf/io.h. */
const IO_SLOTS = 40;
const REC_DEV = 1;
const REC_PROC = 2;
const REC_END = 3;

/** struct io_rec: kind, size, key, pad (u32 each). */
const REC = { kind: 0, size: 4, key: 8, bytes: 16 };

/** struct io_dev: twelve u64, then three u32 histograms. */
const DEV = {
  created: 0,
  reads: 8,
  writes: 16,
  others: 24,
  readBytes: 32,
  writeBytes: 40,
  readSeq: 48,
  maxLatNs: 56,
  maxCycle: 72,
  lat: 96,
  readLat: 96 + 4 * IO_SLOTS,
  queue: 96 + 8 * IO_SLOTS,
  size: 96 + 12 * IO_SLOTS,
};

/** struct io_proc: five u64, char comm[16]. */
const PROC = { created: 0, ios: 8, bytes: 16, waitNs: 24, cgroupId: 32, comm: 40, size: 56 };

/** struct io_end: four u64. */
const END = { cycle: 0, more: 8, devs: 16, procs: 24, size: 32 };

/** The map entries read here, by their bpf/io.h names (struct io_rec and io_end are absent from the BTF: sizes checked per record). */
export const IO_LAYOUT = {
  io_dev: {
    size: DEV.size,
    members: {
      created: DEV.created,
      reads: DEV.reads,
      writes: DEV.writes,
      others: DEV.others,
      read_bytes: DEV.readBytes,
      write_bytes: DEV.writeBytes,
      read_seq: DEV.readSeq,
      max_lat_ns: DEV.maxLatNs,
      max_cycle: DEV.maxCycle,
      lat: DEV.lat,
      read_lat: DEV.readLat,
      queue: DEV.queue,
    },
  },
  io_proc: {
    size: PROC.size,
    members: { created: PROC.created, ios: PROC.ios, bytes: PROC.bytes, wait_ns: PROC.waitNs, cgroup_id: PROC.cgroupId, comm: PROC.comm },
  },
};

export interface RawIoDev {
  reads: bigint;
  writes: bigint;
  others: bigint;
  readBytes: bigint;
  writeBytes: bigint;
  readSeq: bigint;
  max: MaxSlots;
  lat: number[];
  readLat: number[];
  queue: number[];
}

export interface RawIoProc {
  ios: bigint;
  bytes: bigint;
  waitNs: bigint;
  cgroupId: string;
  comm: string;
}

/** An entry as read (by the iterator or from bpftool's JSON): its key, the cycle it was made in, its counters. */
export interface IoEntry<V> {
  key: string;
  created: bigint;
  value: V;
}

export interface IoDump {
  devs: Array<IoEntry<RawIoDev>>;
  procs: Array<IoEntry<RawIoProc>>;
  /** The cycle the pass ended; undefined when the object is not armed (no struct io_end). */
  cycle?: bigint;
  /** Changed entries did not all fit: run the iterator again for the rest. */
  more: boolean;
  /** Entries in the maps after the pass. */
  entries: { devs: number; procs: number };
}

/**
 * bpf/io_dump.bpf.c and net_dump.bpf.c GC_EVERY: the kernel side removes an
 * idle entry at a cycle that is a multiple of this, up to GC_EVERY - 1
 * cycles after it went idle for good; userspace forgets it that much later.
 */
export const DUMP_GC_EVERY = 8n;

const u64 = (b: Buffer, o: number): bigint => b.readBigUInt64LE(o);

function u32s(b: Buffer, o: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = b.readUInt32LE(o + 4 * i);
  return out;
}

function cstr(b: Buffer, o: number, n: number): string {
  const s = b.subarray(o, o + n);
  const nul = s.indexOf(0);
  return s.toString('utf8', 0, nul < 0 ? n : nul);
}

/** Decode one run of the iterator (a view of its output, copied out). */
export function decodeIoDump(buf: Buffer): IoDump {
  const out: IoDump = { devs: [], procs: [], more: false, entries: { devs: 0, procs: 0 } };
  let o = 0;
  while (o < buf.length) {
    if (buf.length - o < REC.bytes) throw new Error(`io dump: ${buf.length - o} stray bytes at offset ${o}`);
    const kind = buf.readUInt32LE(o + REC.kind);
    const size = buf.readUInt32LE(o + REC.size);
    const key = String(buf.readUInt32LE(o + REC.key));
    const v = o + REC.bytes;
    if (v + size > buf.length) throw new Error(`io dump: record of ${size} bytes at offset ${o} runs past the end (${buf.length})`);
    const expect = kind === REC_DEV ? DEV.size : kind === REC_PROC ? PROC.size : kind === REC_END ? END.size : undefined;
    if (expect === undefined) throw new Error(`io dump: unknown record kind ${kind} at offset ${o}`);
    if (size !== expect)
      throw new Error(`io dump: record kind ${kind} has ${size} bytes, this build reads ${expect} (object and code disagree)`);
    if (kind === REC_DEV) {
      out.devs.push({
        key,
        created: u64(buf, v + DEV.created),
        value: {
          reads: u64(buf, v + DEV.reads),
          writes: u64(buf, v + DEV.writes),
          others: u64(buf, v + DEV.others),
          readBytes: u64(buf, v + DEV.readBytes),
          writeBytes: u64(buf, v + DEV.writeBytes),
          readSeq: u64(buf, v + DEV.readSeq),
          max: {
            value: [u64(buf, v + DEV.maxLatNs), u64(buf, v + DEV.maxLatNs + 8)],
            cycle: [u64(buf, v + DEV.maxCycle), u64(buf, v + DEV.maxCycle + 8)],
          },
          lat: u32s(buf, v + DEV.lat, IO_SLOTS),
          readLat: u32s(buf, v + DEV.readLat, IO_SLOTS),
          queue: u32s(buf, v + DEV.queue, IO_SLOTS),
        },
      });
    } else if (kind === REC_PROC) {
      out.procs.push({
        key,
        created: u64(buf, v + PROC.created),
        value: {
          ios: u64(buf, v + PROC.ios),
          bytes: u64(buf, v + PROC.bytes),
          waitNs: u64(buf, v + PROC.waitNs),
          cgroupId: String(u64(buf, v + PROC.cgroupId)),
          comm: cstr(buf, v + PROC.comm, 16),
        },
      });
    } else {
      out.cycle = u64(buf, v + END.cycle);
      out.more = u64(buf, v + END.more) !== 0n;
      out.entries = { devs: Number(u64(buf, v + END.devs)), procs: Number(u64(buf, v + END.procs)) };
    }
    o = v + size;
  }
  return out;
}
