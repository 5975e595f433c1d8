/**
 * Block I/O, CO-RE: bpf/io.bpf.o. Each read bumps the config cycle (which
 * tags per-interval maxima), then dumps the disk and process maps; process
 * entries idle for IDLE_READS reads are deleted (idle-prune.ts).
 */
import { readlinkSync } from 'node:fs';
import path from 'node:path';
import type { Instance } from '../../loader/instance.js';
import { writeConfig } from '../../loader/session.js';
import { u64 } from '../../tools/json.js';
import { histDelta32 } from '../../aggregate/histogram.js';
import { Cumulative, decodeMaxSlots, delta64, maxOf, type MaxSlots } from '../cumulative.js';
import type { BpfOpenOptions, SchedScope, SignalReader } from '../reader.js';
import { openBpfObjects } from '../bpf-objects.js';
import { sessionBatch } from '../session-batch.js';
import { deleteU32Keys, IdlePruner } from '../idle-prune.js';
import type { IoDelta, IoDevDelta, IoProcDelta } from './record.js';

type Json = Record<string, unknown>;

interface RawDev {
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

interface RawProc {
  ios: bigint;
  bytes: bigint;
  waitNs: bigint;
  cgroupId: string;
  comm: string;
}

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

export async function openIoBpf(scope: SchedScope, opts: BpfOpenOptions = {}): Promise<SignalReader<IoDelta>> {
  const objects = await openBpfObjects(scope, opts);
  // Map dumps go through the session's shared bpftool (objects.batch is never asked: no process of its own).
  const shared = sessionBatch(opts.session);
  const { batch } = shared;
  const close = (): void => {
    shared.release();
    objects.close();
  };
  let cycle = 1n;
  const outlier = opts.outlierNs ?? 0;
  let core: Instance;
  try {
    core = await objects.load('io');
    await writeConfig(batch, core.map('io_config'), encodeIoConfig(outlier, cycle));
  } catch (err) {
    close();
    throw err;
  }
  const devs = new Cumulative<RawDev>();
  const procs = new Cumulative<RawProc>();
  const pruner = new IdlePruner();
  let last = process.hrtime.bigint();
  return {
    backend: 'bpf',
    helperPids: () => [...objects.helperPids(), ...shared.helperPids()],
    close,
    async read(): Promise<IoDelta> {
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
        const { major, minor } = splitDev(Number(key));
        const d: IoDevDelta = {
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
        if (d.reads || d.writes || d.others) out.devices.push(d);
      }
      const seen: Array<[string, boolean]> = [];
      for (const { key, cur, prev } of procs.step(decodeIoProcs(procDump))) {
        const d: IoProcDelta = {
          pid: Number(key),
          comm: cur.comm,
          cgroupId: cur.cgroupId,
          ios: delta64(cur.ios, prev?.ios),
          bytes: delta64(cur.bytes, prev?.bytes),
          waitNs: delta64(cur.waitNs, prev?.waitNs),
        };
        if (d.ios) out.procs.push(d);
        seen.push([key, d.ios !== 0]);
      }
      await deleteU32Keys(batch, core.map('io_procs'), pruner.step(seen));
      return out;
    },
  };
}
