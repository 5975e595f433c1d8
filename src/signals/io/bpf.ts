/**
 * Block I/O, CO-RE: bpf/io.bpf.o (the hooks) and bpf/io_dump.bpf.o (the
 * read). Each read runs io_dump's iterator, which ends the cycle (it tags
 * per-interval maxima) and writes the disk and process entries changed since
 * they were last written; it removes process entries idle for IDLE_READS
 * cycles itself. Where the kernel refuses io_dump (before 5.17: no
 * bpf_loop), each read bumps the cycle and dumps both maps through the
 * session's bpftool instead, and deletes idle process entries from here
 * (idle-prune.ts).
 */
import { readlinkSync } from 'node:fs';
import path from 'node:path';
import type { Instance } from '../../loader/instance.js';
import { writeConfig } from '../../loader/session.js';
import { u64 } from '../../tools/json.js';
import { histDelta32 } from '../../aggregate/histogram.js';
import { Cumulative, decodeMaxSlots, delta64, maxOf } from '../cumulative.js';
import type { BpfOpenOptions, SchedScope, SignalReader } from '../reader.js';
import { openBpfObjects } from '../bpf-objects.js';
import { sessionBatch } from '../session-batch.js';
import { mapReads, type MapReads } from '../map-reads.js';
import type { BpftoolBatch } from '../../tools/batch.js';
import { deleteU32Keys, IdlePruner } from '../idle-prune.js';
import { IterBuffer } from '../../loader/iter.js';
import { ObjectLoadError } from '../../loader/instance.js';
import { messageOf } from '../../errors.js';
import { ChangedEntries } from '../futex/dump.js';
import { decodeIoDump, DUMP_GC_EVERY, type IoDump, type IoEntry, type RawIoDev, type RawIoProc } from './dump.js';
import type { IoDelta, IoDevDelta, IoProcDelta } from './record.js';

type Json = Record<string, unknown>;

type RawDev = RawIoDev;
type RawProc = RawIoProc;

/** The kernel's dev_t: 12 bits of major above 20 bits of minor. */
export function splitDev(dev: number): { major: number; minor: number } {
  return { major: dev >>> 20, minor: dev & 0xfffff };
}

const names = new Map<string, string>();

/** Disk name from /sys/dev/block/MAJ:MIN (e.g. vda, loop3, nvme0n1), or MAJ:MIN. */
export function diskName(major: number, minor: number, sysRoot = '/sys'): string {
  const key = `${major}:${minor}`;
  let n = names.get(key);
  if (n === undefined) {
    try {
      n = path.basename(readlinkSync(path.join(sysRoot, 'dev', 'block', key)));
    } catch {
      n = key;
    }
    names.set(key, n);
  }
  return n;
}

export function decodeIoDevs(dump: unknown): Array<{ key: string; created: string; value: RawDev }> {
  return (dump as Array<{ formatted: { key: unknown; value: Json } }>).map(({ formatted: { key, value: v } }) => ({
    key: String(key),
    created: String(v.created),
    value: {
      reads: u64(v.reads),
      writes: u64(v.writes),
      others: u64(v.others),
      readBytes: u64(v.read_bytes),
      writeBytes: u64(v.write_bytes),
      readSeq: u64(v.read_seq),
      max: decodeMaxSlots(v.max_lat_ns, v.max_cycle, u64),
      lat: (v.lat as unknown[]).map(Number),
      readLat: (v.read_lat as unknown[]).map(Number),
      queue: (v.queue as unknown[]).map(Number),
    },
  }));
}

export function decodeIoProcs(dump: unknown): Array<{ key: string; created: string; value: RawProc }> {
  return (dump as Array<{ formatted: { key: unknown; value: Json } }>).map(({ formatted: { key, value: v } }) => ({
    key: String(key),
    created: String(v.created),
    value: { ios: u64(v.ios), bytes: u64(v.bytes), waitNs: u64(v.wait_ns), cgroupId: String(u64(v.cgroup_id)), comm: String(v.comm ?? '') },
  }));
}

/** struct io_config */
export function encodeIoConfig(outlierNs: number, cycle: bigint): Uint8Array {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(BigInt(Math.round(outlierNs)), 0);
  b.writeBigUInt64LE(cycle, 8);
  return b;
}

/** One disk's and one process's delta, from the current and previous reading of its entry. */
function devDelta(key: string, cur: RawDev, prev: RawDev | undefined, ended: bigint): IoDevDelta {
  const { major, minor } = splitDev(Number(key));
  return {
    dev: diskName(major, minor),
    major,
    minor,
    reads: delta64(cur.reads, prev?.reads),
    writes: delta64(cur.writes, prev?.writes),
    others: delta64(cur.others, prev?.others),
    readBytes: delta64(cur.readBytes, prev?.readBytes),
    writeBytes: delta64(cur.writeBytes, prev?.writeBytes),
    readSeq: delta64(cur.readSeq, prev?.readSeq),
    maxLatNs: maxOf(cur.max, ended),
    lat: histDelta32(cur.lat, prev?.lat),
    readLat: histDelta32(cur.readLat, prev?.readLat),
    queue: histDelta32(cur.queue, prev?.queue),
  };
}

function procDelta(key: string, cur: RawProc, prev: RawProc | undefined): IoProcDelta {
  return {
    pid: Number(key),
    comm: cur.comm,
    cgroupId: cur.cgroupId,
    ios: delta64(cur.ios, prev?.ios),
    bytes: delta64(cur.bytes, prev?.bytes),
    waitNs: delta64(cur.waitNs, prev?.waitNs),
  };
}

export interface IoReader extends SignalReader<IoDelta> {
  /** How reads get the maps: io_dump's iterator, or bpftool (where the kernel refused io_dump, with its reason in `warnings`). */
  readsBy: 'iterator' | 'bpftool';
  warnings: string[];
}

export async function openIoBpf(scope: SchedScope, opts: BpfOpenOptions & { mapReads?: MapReads } = {}): Promise<IoReader> {
  const reads = mapReads(opts.mapReads);
  const objects = await openBpfObjects(scope, opts);
  // Set-up, and reads where io_dump does not load, go through the session's shared bpftool (objects.batch is never asked).
  const shared = sessionBatch(opts.session);
  const { batch } = shared;
  const close = (): void => {
    shared.release();
    objects.close();
  };
  const cycle = 1n;
  const outlier = opts.outlierNs ?? 0;
  const warnings: string[] = [];
  let core: Instance;
  let dumper: Instance | undefined;
  try {
    core = await objects.load('io');
    await writeConfig(batch, core.map('io_config'), encodeIoConfig(outlier, cycle));
    if (reads === 'auto') {
      try {
        dumper = await objects.load('io_dump', {
          io_config: core.map('io_config'),
          io_devs: core.map('io_devs'),
          io_procs: core.map('io_procs'),
        });
      } catch (err) {
        if (!(err instanceof ObjectLoadError)) throw err;
        warnings.push(`io: maps read through bpftool (${messageOf(err).split('\n')[0]})`);
      }
    }
  } catch (err) {
    close();
    throw err;
  }
  const read = dumper ? iteratorReads(dumper) : bpftoolReads(batch, core, outlier, cycle);
  // With the iterator, bpftool is not needed after set-up (its memory goes with it, once no other reader shares it).
  if (dumper) shared.release();
  return {
    backend: 'bpf',
    readsBy: dumper ? 'iterator' : 'bpftool',
    warnings,
    helperPids: () => [...objects.helperPids(), ...shared.helperPids()],
    close,
    read,
  };
}

/** Passes of the dump iterator per read at most (one holds hundreds of changed entries). */
const MAX_PASSES = 8;

/** Reads through io_dump's iterator: the entries changed since the last read. */
function iteratorReads(dumper: Instance): () => Promise<IoDelta> {
  const iter = new IterBuffer();
  const link = dumper.link('dump');
  // Disks are few and never removed: their last reading is kept. Processes: as long as the kernel side keeps them.
  const devs = new Map<string, IoEntry<RawDev>>();
  const procs = new ChangedEntries<IoEntry<RawProc>>();
  let last = process.hrtime.bigint();
  let reads = 0;
  return async () => {
    const now = process.hrtime.bigint();
    let dump: IoDump = decodeIoDump(iter.read(link));
    const ended = dump.cycle;
    for (let pass = 1; dump.more && pass < MAX_PASSES; pass++) {
      const next = decodeIoDump(iter.read(link));
      dump = { ...next, devs: [...dump.devs, ...next.devs], procs: [...dump.procs, ...next.procs] };
    }
    const intervalNs = Number(now - last);
    last = now;
    const out: IoDelta = { intervalNs, devices: [], procs: [] };
    if (ended === undefined) return out;
    const cycle = dump.cycle ?? ended;
    for (const e of dump.devs) {
      const before = devs.get(e.key);
      devs.set(e.key, e);
      const d = devDelta(e.key, e.value, before && before.created === e.created ? before.value : undefined, ended);
      if (d.reads || d.writes || d.others) out.devices.push(d);
    }
    for (const e of dump.procs) {
      const d = procDelta(e.key, e.value, procs.step(e.key, e, cycle)?.value);
      if (d.ios) out.procs.push(d);
    }
    // The kernel side removes idle entries late by up to DUMP_GC_EVERY cycles: forget them that much later.
    if (++reads % 8 === 0) procs.prune(cycle - DUMP_GC_EVERY);
    return out;
  };
}

/** Reads through bpftool: bump the cycle, dump both maps whole, delete idle processes (idle-prune.ts). */
function bpftoolReads(batch: BpftoolBatch, core: Instance, outlier: number, armed: bigint): () => Promise<IoDelta> {
  let cycle = armed;
  const devs = new Cumulative<RawDev>();
  const procs = new Cumulative<RawProc>();
  const pruner = new IdlePruner();
  let last = process.hrtime.bigint();
  return async () => {
    const ended = cycle;
    cycle += 1n;
    // The new cycle, then the dumps: asked together (bpftool runs them in this order), in one write.
    const now = process.hrtime.bigint();
    const [, devDump, procDump] = await Promise.all([
      writeConfig(batch, core.map('io_config'), encodeIoConfig(outlier, cycle)),
      batch.request(['map', 'dump', 'pinned', core.map('io_devs')]),
      batch.request(['map', 'dump', 'pinned', core.map('io_procs')]),
    ]);
    const intervalNs = Number(now - last);
    last = now;
    const out: IoDelta = { intervalNs, devices: [], procs: [] };
    for (const { key, cur, prev } of devs.step(decodeIoDevs(devDump))) {
      const d = devDelta(key, cur, prev, ended);
      if (d.reads || d.writes || d.others) out.devices.push(d);
    }
    const seen: Array<[string, boolean]> = [];
    for (const { key, cur, prev } of procs.step(decodeIoProcs(procDump))) {
      const d = procDelta(key, cur, prev);
      if (d.ios) out.procs.push(d);
      seen.push([key, d.ios !== 0]);
    }
    await deleteU32Keys(batch, core.map('io_procs'), pruner.step(seen));
    return out;
  };
}
