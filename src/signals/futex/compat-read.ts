/**
 * The futex read where the object has no dump iterator (the compat variant,
 * for kernels before 5.13/5.17): userspace ends the cycle through bpftool,
 * dumps both maps whole as JSON, and deletes the entries of processes that
 * are gone every 30 reads (the kernel side never does there). Returns the
 * same shape the iterator's read does, with every entry in it.
 */
import { existsSync } from 'node:fs';
import type { Instance } from '../../loader/instance.js';
import { writeConfig } from '../../loader/session.js';
import type { BpftoolBatch } from '../../tools/batch.js';
import { u64 } from '../../tools/json.js';
import type { DumpedAddr, DumpedProc, FutexDump } from './dump.js';

type Json = Record<string, unknown>;
type Entry = { formatted: { key: unknown; value: Json } };

const pair = (v: unknown): [bigint, bigint] => {
  const a = v as unknown[];
  return [u64(a[0]), u64(a[1])];
};

function procOf({ formatted: { key, value: v } }: Entry): DumpedProc {
  return {
    tgid: Number(key),
    created: u64(v.created),
    waits: u64(v.waits),
    waitNs: u64(v.wait_ns),
    timeouts: u64(v.timeouts),
    wakes: u64(v.wakes),
    woken: u64(v.woken),
    maxWaitNs: pair(v.max_wait_ns),
    maxCycle: pair(v.max_cycle),
    cgroupId: u64(v.cgroup_id),
    comm: String(v.comm ?? ''),
    hist: Uint32Array.from((v.hist as unknown[]).map(Number)),
  };
}

function addrOf({ formatted: { key, value: v } }: Entry): DumpedAddr {
  const k = key as Json;
  return {
    tgid: Number(k.tgid),
    uaddr: u64(k.uaddr),
    created: u64(v.created),
    waits: u64(v.waits),
    waitNs: u64(v.wait_ns),
    maxWaiters: pair(v.max_waiters),
    maxCycle: pair(v.max_cycle),
  };
}

export interface BpftoolFutexPass {
  /** End cycle `ended` (write ended + 1) and dump both maps. */
  read(ended: bigint): Promise<FutexDump>;
}

export function bpftoolFutexPass(batch: BpftoolBatch, core: Instance, config: (cycle: bigint) => Uint8Array): BpftoolFutexPass {
  let reads = 0;
  return {
    async read(ended) {
      await writeConfig(batch, core.map('futex_config'), config(ended + 1n));
      const procs = ((await batch.request(['map', 'dump', 'pinned', core.map('futex_procs')])) as Entry[]).map(procOf);
      const addrs = ((await batch.request(['map', 'dump', 'pinned', core.map('futex_addrs')])) as Entry[]).map(addrOf);
      if (++reads % 30 === 0) await forgetDeadProcesses(batch, core.map('futex_procs'), procs);
      return { procs, addrs, cycle: ended, more: false, entries: { procs: procs.length, addrs: addrs.length } };
    },
  };
}

/** Delete entries of processes that are gone. */
async function forgetDeadProcesses(batch: BpftoolBatch, pinned: string, procs: DumpedProc[]): Promise<void> {
  for (const { tgid } of procs) {
    if (existsSync(`/proc/${tgid}`)) continue;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(tgid);
    try {
      await batch.request(['map', 'delete', 'pinned', pinned, 'key', 'hex', ...[...b].map((x) => x.toString(16).padStart(2, '0'))]);
    } catch {
      /* deleted meanwhile */
    }
  }
}
