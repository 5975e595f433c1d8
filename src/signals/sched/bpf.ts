/**
 * Scheduler signal, CO-RE backend: loads bpf/sched.bpf.o, scopes it through
 * its config map, and turns each interval's map contents into a SchedDelta.
 * Reading = run the `flush` task iterator (read its pinned link), then the
 * `dump` iterator, which writes the process and cgroup entries changed since
 * the last read, and the CPU entries, in binary (dump.ts). No bpftool process runs unless needed: the
 * long-lived batch starts at its first request (the outlier threshold, or a
 * host where the dump could not reach every CPU).
 */
import { IterBuffer, readPinned } from '../../loader/iter.js';
import type { Instance } from '../../loader/instance.js';
import { u64le, writeConfig } from '../../loader/session.js';
import type { BpfOpenOptions, SchedScope, SignalReader } from '../reader.js';
import { openBpfObjects } from '../bpf-objects.js';
import { u64 } from '../../tools/json.js';
import { delta64 } from '../cumulative.js';
import { dumpDeltas, indexDump, LastReadings, type DumpIndex, type RawCpu } from './dump.js';
import { onlineCpus } from '../../loader/session.js';
import type { SchedCpuDelta, SchedDelta } from './record.js';

export type { SchedScope, SignalReader, BpfOpenOptions } from '../reader.js';

export interface RawCounts {
  oncpu: bigint;
  runDelay: bigint;
  nvcsw: bigint;
  nivcsw: bigint;
  waits: bigint;
  waitNs: bigint;
  histWakeup: number[];
  histPreempt: number[];
}

export interface RawProc extends RawCounts {
  comm: string;
  cgroupId: string;
  maxWaitNs: bigint;
  maxCycle: bigint;
  threads: number;
  threadsCycle: bigint;
  exited: boolean;
}

type Json = Record<string, unknown>;

function decodeCounts(c: Json): RawCounts {
  return {
    oncpu: u64(c.oncpu_ns),
    runDelay: u64(c.run_delay_ns),
    nvcsw: u64(c.nvcsw),
    nivcsw: u64(c.nivcsw),
    waits: u64(c.waits),
    waitNs: u64(c.wait_ns),
    histWakeup: (c.hist_wakeup as number[]).map(Number),
    histPreempt: (c.hist_preempt as number[]).map(Number),
  };
}

/** Decode `bpftool -j map dump` of sched_procs (the same entries the dump iterator writes; tests compare the two). */
export function decodeProcs(dump: unknown): Array<{ key: string; created: string; value: RawProc }> {
  return (dump as Array<{ formatted: { key: unknown; value: Json } }>).map(({ formatted }) => {
    const v = formatted.value;
    const c = v.c as Json;
    return {
      key: String(formatted.key),
      created: String(c.created),
      value: {
        ...decodeCounts(c),
        comm: String(v.comm ?? ''),
        cgroupId: String(u64(v.cgroup_id)),
        maxWaitNs: u64(v.max_wait_ns),
        maxCycle: u64(v.max_cycle),
        threads: Number(v.threads),
        threadsCycle: u64(v.threads_cycle),
        exited: Number(v.exited) !== 0,
      },
    };
  });
}

/** Decode `bpftool -j map dump` of sched_cgroups (as above). */
export function decodeCgroups(dump: unknown): Array<{ key: string; created: string; value: RawCounts }> {
  return (dump as Array<{ formatted: { key: unknown; value: Json } }>).map(({ formatted }) => ({
    key: String(u64(formatted.key)),
    created: String(formatted.value.created),
    value: decodeCounts(formatted.value),
  }));
}

/** Decode `bpftool -j map dump` of the per-CPU sched_cpus array: cumulative [switches, wait_ns] per CPU. */
export function decodeCpus(dump: unknown): RawCpu[] {
  const entry = (dump as Array<{ formatted: { values: Array<{ cpu: number; value: Json }> } }>)[0];
  return (entry?.formatted.values ?? []).map(({ cpu, value }) => ({
    cpu: Number(cpu),
    switches: u64(value.switches),
    waitNs: u64(value.wait_ns),
  }));
}

/** Parse the iterator's output line `cycle N tasks M`. */
export function parseFlushOutput(text: string): { cycle: bigint; tasks: number } {
  const m = /cycle (\d+) tasks (\d+)/.exec(text);
  if (!m) throw new Error(`unexpected output from the sched flush iterator: ${JSON.stringify(text.slice(0, 100))}`);
  return { cycle: BigInt(m[1]!), tasks: Number(m[2]) };
}

/** Where the last read's wall time went, in ms: the two iterators (kernel), then node's indexing and deltas. */
export interface SchedReadSteps {
  flushMs: number;
  dumpMs: number;
  dumpBytes: number;
  indexMs: number;
  deltasMs: number;
}

export interface SchedBpfReader extends SignalReader<SchedDelta> {
  /** The steps of the last read() (the benchmark prints them). */
  lastSteps(): SchedReadSteps | undefined;
}

/** Milliseconds from hrtime a to hrtime b. */
const ms = (a: bigint, b: bigint): number => Number(b - a) / 1e6;

export async function openSchedBpf(scope: SchedScope, opts: BpfOpenOptions = {}): Promise<SchedBpfReader> {
  const objects = await openBpfObjects(scope, { ...opts, preload: 'sched' });
  const { batch, close } = objects;
  let inst: Instance;
  try {
    inst = await objects.load('sched');
  } catch (err) {
    close();
    throw err;
  }
  // A read holds the entries changed since the previous one; deltas are taken against each entry's last reading.
  const buffer = new IterBuffer();
  let steps: SchedReadSteps | undefined;
  const readDump = (): DumpIndex => indexDump(buffer.read(inst.link('dump')));
  const readings = new LastReadings();
  let cpuPrev = new Map<number, RawCpu>();
  // The dump writes a CPU's counters at that CPU's first task (every online CPU has its kernel threads):
  // if it missed one, the map is read through bpftool (every possible CPU). Counted once, not per read.
  const online = onlineCpus();
  const cpusOf = async (dumped: RawCpu[]): Promise<RawCpu[]> =>
    dumped.length >= online ? dumped : decodeCpus(await batch.request(['map', 'dump', 'pinned', inst.map('sched_cpus')]));
  let last = process.hrtime.bigint();

  // The flush iterator's output is one short line.
  const flush = (): { cycle: bigint; tasks: number } => parseFlushOutput(readPinned(inst.link('flush')));

  try {
    if (opts.outlierNs) await writeConfig(batch, inst.map('sched_config'), u64le(BigInt(Math.round(opts.outlierNs))));
    // First cycle: adopt every task in scope (baselines = their counters now).
    const { cycle } = flush();
    const first = readDump();
    dumpDeltas(first, readings, Number(cycle));
    cpuPrev = new Map((await cpusOf(first.cpus)).map((c) => [c.cpu, c]));
    last = process.hrtime.bigint();
  } catch (err) {
    close();
    throw err;
  }

  return {
    backend: 'bpf',
    helperPids: objects.helperPids,
    close,
    lastSteps: () => steps,
    async read(): Promise<SchedDelta> {
      const t0 = process.hrtime.bigint();
      const { cycle } = flush();
      const now = process.hrtime.bigint();
      const raw = buffer.read(inst.link('dump'));
      const t1 = process.hrtime.bigint();
      const dump = indexDump(raw);
      const t2 = process.hrtime.bigint();
      const cpuCur = await cpusOf(dump.cpus);
      const intervalNs = Number(now - last);
      last = now;
      const t3 = process.hrtime.bigint();
      const { procs, cgroups, procHist } = dumpDeltas(dump, readings, Number(cycle));
      steps = {
        flushMs: ms(t0, now),
        dumpMs: ms(now, t1),
        dumpBytes: raw.length,
        indexMs: ms(t1, t2),
        deltasMs: ms(t3, process.hrtime.bigint()),
      };
      const cpus: SchedCpuDelta[] = [];
      for (const c of cpuCur) {
        const p = cpuPrev.get(c.cpu);
        cpus.push({ cpu: c.cpu, switches: delta64(c.switches, p?.switches), waitNs: delta64(c.waitNs, p?.waitNs) });
      }
      cpuPrev = new Map(cpuCur.map((c) => [c.cpu, c]));
      return { intervalNs, procs, procHist, cgroups, cpus };
    },
  };
}
