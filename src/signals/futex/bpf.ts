/**
 * Futex contention, CO-RE: bpf/futex.bpf.o (futex(2)), plus the optional
 * bpf/futex_waitv.bpf.o and bpf/futex_wait.bpf.o where the kernel has those
 * syscalls (a missing one is a warning; the rest keeps working). Each read
 * runs the object's `dump` iterator, which ends the cycle and writes the
 * process and word entries changed since their last read (bpf/futex.bpf.c);
 * bpftool is needed only to load and arm the objects.
 */
import type { Instance } from '../../loader/instance.js';
import { writeConfig } from '../../loader/session.js';
import { existsSync } from 'node:fs';
import { IterBuffer } from '../../loader/iter.js';
import { u64 } from '../../tools/json.js';
import { histDelta32 } from '../../aggregate/histogram.js';
import { messageOf } from '../../errors.js';
import { decodeMaxSlots, delta64, maxOf, type MaxSlots } from '../cumulative.js';
import type { BpfOpenOptions, SchedScope, SignalReader } from '../reader.js';
import { openBpfObjects } from '../bpf-objects.js';
import { ChangedEntries, decodeFutexDump, type DumpedAddr, type DumpedProc, type FutexDump } from './dump.js';
import { bpftoolFutexPass } from './compat-read.js';
import type { FutexAddrDelta, FutexDelta, FutexProcDelta } from './record.js';

/** Maps the optional objects share with futex.bpf.o (include/futex.bpf.h). */
const FUTEX_MAPS = ['futex_tasks', 'futex_config', 'futex_procs', 'futex_addrs', 'futex_scratch', 'tuner_ev_buf'];
const OPTIONAL = ['futex_waitv', 'futex_wait'];

type Json = Record<string, unknown>;

interface RawAddr {
  tgid: number;
  uaddr: bigint;
  waits: bigint;
  waitNs: bigint;
  max: MaxSlots;
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
  /** How reads get the maps: the object's dump iterator, or bpftool (the compat variant). */
  readsBy: 'iterator' | 'bpftool';
}

export async function openFutexBpf(scope: SchedScope, opts: BpfOpenOptions = {}): Promise<FutexReader> {
  const objects = await openBpfObjects(scope, opts);
  const { batch, close } = objects;
  const warnings: string[] = [];
  let core: Instance;
  const cycle = 1n;
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
  // With the dump iterator, bpftool is not needed after set-up (its memory goes with it); the compat variant has none.
  const compat = existsSync(core.link('dump')) ? undefined : bpftoolFutexPass(batch, core, (c) => encodeFutexConfig(outlier, c));
  if (!compat) batch.release();
  let armed = cycle;
  const procs = new ChangedEntries<DumpedProc>();
  const addrs = new ChangedEntries<DumpedAddr>();
  const iter = new IterBuffer();
  let last = process.hrtime.bigint();
  let reads = 0;

  return {
    backend: 'bpf',
    warnings,
    readsBy: compat ? 'bpftool' : 'iterator',
    helperPids: objects.helperPids,
    close,
    async read(): Promise<FutexDelta> {
      const now = process.hrtime.bigint();
      const { dump, ended } = compat ? { dump: await compat.read(armed), ended: armed } : readChanged(iter, core.link('dump'));
      armed = (dump.cycle ?? armed) + 1n;
      const intervalNs = Number(now - last);
      last = now;
      const out: FutexDelta = { intervalNs, procs: [], addrs: [] };
      if (ended === undefined) return out;
      const cycle = dump.cycle ?? ended;
      for (const cur of dump.procs) {
        const prev = procs.step(String(cur.tgid), cur, cycle);
        const d: FutexProcDelta = {
          pid: cur.tgid,
          comm: cur.comm,
          cgroupId: String(cur.cgroupId),
          waits: delta64(cur.waits, prev?.waits),
          waitNs: delta64(cur.waitNs, prev?.waitNs),
          timeouts: delta64(cur.timeouts, prev?.timeouts),
          wakes: delta64(cur.wakes, prev?.wakes),
          woken: delta64(cur.woken, prev?.woken),
          maxWaitNs: maxOf({ value: cur.maxWaitNs, cycle: cur.maxCycle }, ended),
          hist: histDelta32(cur.hist, prev?.hist),
        };
        if (d.waits || d.wakes) out.procs.push(d);
      }
      for (const cur of dump.addrs) {
        const prev = addrs.step(`${cur.tgid}:${cur.uaddr}`, cur, cycle);
        const d: FutexAddrDelta = {
          pid: cur.tgid,
          uaddr: cur.uaddr,
          waits: delta64(cur.waits, prev?.waits),
          waitNs: delta64(cur.waitNs, prev?.waitNs),
          maxWaiters: maxOf({ value: cur.maxWaiters, cycle: cur.maxCycle }, ended) ?? 0,
        };
        if (d.waits || d.maxWaiters) out.addrs.push(d);
      }
      if (compat) {
        procs.keepOnly(new Set(dump.procs.map((p) => String(p.tgid))));
        addrs.keepOnly(new Set(dump.addrs.map((a) => `${a.tgid}:${a.uaddr}`)));
      } else if (++reads % 8 === 0) {
        procs.prune(cycle);
        addrs.prune(cycle);
      }
      return out;
    },
  };
}

/** Passes of the dump iterator per read at most (one holds hundreds of changed entries). */
const MAX_PASSES = 8;

/**
 * Run the dump iterator; what did not fit in one pass comes in the next (each
 * pass ends a cycle of its own, a few microseconds long: per-interval maxima
 * are those of the first). Entries left after MAX_PASSES come at the next read.
 */
function readChanged(iter: IterBuffer, link: string): { dump: FutexDump; ended: bigint | undefined } {
  let dump = decodeFutexDump(iter.read(link));
  const ended = dump.cycle;
  for (let pass = 1; dump.more && pass < MAX_PASSES; pass++) {
    const next = decodeFutexDump(iter.read(link));
    dump = { ...next, procs: [...dump.procs, ...next.procs], addrs: [...dump.addrs, ...next.addrs] };
  }
  return { dump, ended };
}
