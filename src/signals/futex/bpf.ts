/**
 * Futex contention, CO-RE: bpf/futex.bpf.o (futex(2)), plus the optional
 * bpf/futex_waitv.bpf.o and bpf/futex_wait.bpf.o where the kernel has those
 * syscalls (a missing one is a warning; the rest keeps working). Each read
 * bumps the config cycle, then dumps the process and word maps.
 */
import type { Instance } from '../../loader/instance.js';
import { writeConfig } from '../../loader/session.js';
import type { BpftoolBatch } from '../../tools/batch.js';
import { u64 } from '../../tools/json.js';
import { histDelta32 } from '../../aggregate/histogram.js';
import { messageOf } from '../../errors.js';
import { Cumulative, decodeMaxSlots, delta64, maxOf, type MaxSlots } from '../cumulative.js';
import type { BpfOpenOptions, SchedScope, SignalReader } from '../reader.js';
import { openBpfObjects } from '../bpf-objects.js';
import type { FutexAddrDelta, FutexDelta, FutexProcDelta } from './record.js';

/** Maps the optional objects share with futex.bpf.o (include/futex.bpf.h). */
const FUTEX_MAPS = ['futex_tasks', 'futex_config', 'futex_procs', 'futex_addrs', 'futex_scratch', 'tuner_ev_buf'];
const OPTIONAL = ['futex_waitv', 'futex_wait'];

type Json = Record<string, unknown>;

interface RawProc {
  waits: bigint;
  waitNs: bigint;
  timeouts: bigint;
  wakes: bigint;
  woken: bigint;
  max: MaxSlots;
  cgroupId: string;
  comm: string;
  hist: number[];
}

interface RawAddr {
  tgid: number;
  uaddr: bigint;
  waits: bigint;
  waitNs: bigint;
  max: MaxSlots;
}

export function decodeFutexProcs(dump: unknown): Array<{ key: string; created: string; value: RawProc }> {
  return (dump as Array<{ formatted: { key: unknown; value: Json } }>).map(({ formatted: { key, value: v } }) => ({
    key: String(key),
    created: String(v.created),
    value: {
      waits: u64(v.waits),
      waitNs: u64(v.wait_ns),
      timeouts: u64(v.timeouts),
      wakes: u64(v.wakes),
      woken: u64(v.woken),
      max: decodeMaxSlots(v.max_wait_ns, v.max_cycle, u64),
      cgroupId: String(u64(v.cgroup_id)),
      comm: String(v.comm ?? ''),
      hist: (v.hist as unknown[]).map(Number),
    },
  }));
}

export function decodeFutexAddrs(dump: unknown): Array<{ key: string; created: string; value: RawAddr }> {
  return (dump as Array<{ formatted: { key: Json; value: Json } }>).map(({ formatted: { key: k, value: v } }) => ({
    key: `${k.tgid}:${u64(k.uaddr)}`,
    created: String(v.created),
    value: {
      tgid: Number(k.tgid),
      uaddr: u64(k.uaddr),
      waits: u64(v.waits),
      waitNs: u64(v.wait_ns),
      max: decodeMaxSlots(v.max_waiters, v.max_cycle, u64),
    },
  }));
}

/** struct futex_config */
export function encodeFutexConfig(outlierNs: number, cycle: bigint): Uint8Array {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(BigInt(Math.round(outlierNs)), 0);
  b.writeBigUInt64LE(cycle, 8);
  return b;
}

export interface FutexReader extends SignalReader<FutexDelta> {
  /** Optional hooks that could not be loaded on this kernel, with the reason. */
  warnings: string[];
}

export async function openFutexBpf(scope: SchedScope, opts: BpfOpenOptions = {}): Promise<FutexReader> {
  const objects = await openBpfObjects(scope, opts);
  const { batch, close } = objects;
  const warnings: string[] = [];
  let core: Instance;
  let cycle = 1n;
  const outlier = opts.outlierNs ?? 0;
  try {
    core = await objects.load('futex');
    const reuse = { ...objects.session.maps, ...Object.fromEntries(FUTEX_MAPS.map((m) => [m, core.map(m)])) };
    for (const name of OPTIONAL) {
      if (core.name === 'futex_compat') break; // its sys_enter/sys_exit hooks see futex_wait(2) and futex_waitv(2) too
      try {
        await objects.load(name, reuse);
      } catch (err) {
        warnings.push(`futex: ${name} hook not loaded (${messageOf(err).split('\n')[0]}); futex(2) is still observed`);
      }
    }
    await writeConfig(batch, core.map('futex_config'), encodeFutexConfig(outlier, cycle));
  } catch (err) {
    close();
    throw err;
  }
  const procs = new Cumulative<RawProc>();
  const addrs = new Cumulative<RawAddr>();
  let last = process.hrtime.bigint();
  let reads = 0;

  return {
    backend: 'bpf',
    warnings,
    helperPids: objects.helperPids,
    close,
    async read(): Promise<FutexDelta> {
      const ended = cycle;
      cycle += 1n;
      await writeConfig(batch, core.map('futex_config'), encodeFutexConfig(outlier, cycle));
      const now = process.hrtime.bigint();
      const procDump = await batch.request(['map', 'dump', 'pinned', core.map('futex_procs')]);
      const addrDump = await batch.request(['map', 'dump', 'pinned', core.map('futex_addrs')]);
      const intervalNs = Number(now - last);
      last = now;
      const out: FutexDelta = { intervalNs, procs: [], addrs: [] };
      for (const { key, cur, prev } of procs.step(decodeFutexProcs(procDump))) {
        const d: FutexProcDelta = {
          pid: Number(key),
          comm: cur.comm,
          cgroupId: cur.cgroupId,
          waits: delta64(cur.waits, prev?.waits),
          waitNs: delta64(cur.waitNs, prev?.waitNs),
          timeouts: delta64(cur.timeouts, prev?.timeouts),
          wakes: delta64(cur.wakes, prev?.wakes),
          woken: delta64(cur.woken, prev?.woken),
          maxWaitNs: maxOf(cur.max, ended),
          hist: histDelta32(cur.hist, prev?.hist),
        };
        if (d.waits || d.wakes) out.procs.push(d);
      }
      for (const { cur, prev } of addrs.step(decodeFutexAddrs(addrDump))) {
        const d: FutexAddrDelta = {
          pid: cur.tgid,
          uaddr: cur.uaddr,
          waits: delta64(cur.waits, prev?.waits),
          waitNs: delta64(cur.waitNs, prev?.waitNs),
          maxWaiters: maxOf(cur.max, ended) ?? 0,
        };
        if (d.waits || d.maxWaiters) out.addrs.push(d);
      }
      if (++reads % 30 === 0) await forgetDeadProcesses(batch, core.map('futex_procs'), procDump);
      return out;
    },
  };
}

/** Delete entries of processes that are gone (the kernel side never does). */
async function forgetDeadProcesses(batch: BpftoolBatch, pinned: string, dump: unknown): Promise<void> {
  const { existsSync } = await import('node:fs');
  for (const { key } of decodeFutexProcs(dump)) {
    const pid = Number(key);
    if (existsSync(`/proc/${pid}`)) continue;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(pid);
    try {
      await batch.request(['map', 'delete', 'pinned', pinned, 'key', 'hex', ...[...b].map((x) => x.toString(16).padStart(2, '0'))]);
    } catch {
      /* deleted meanwhile */
    }
  }
}
