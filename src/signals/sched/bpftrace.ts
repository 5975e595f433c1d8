/**
 * Scheduler signal, bpftrace backend (probes/sched.bt): the same deltas as
 * the CO-RE backend, measured independently (timestamps at wakeup and
 * switch, no sched_info). bpftrace keeps its own interval, so `read()` waits
 * for its next dump (`selfTimed`).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { probePath } from '../../loader/paths.js';
import { onExit } from '../../lifecycle/exit.js';
import { runBpftrace, type BpftraceRecord } from '../../tools/bpftrace.js';
import { num } from '../../tools/json.js';
import { histAdd } from '../../aggregate/histogram.js';
import type { SchedScope, SignalReader } from '../reader.js';
import type { SchedCgroupDelta, SchedDelta, SchedProcDelta } from './record.js';

/** Index of the cpu controller in /proc/cgroups (its rows are in subsystem-id order). */
export function cpuSubsysIndex(procCgroups: string): number {
  const rows = procCgroups.split('\n').filter((l) => l && !l.startsWith('#'));
  const i = rows.findIndex((l) => l.split(/\s+/)[0] === 'cpu');
  return i < 0 ? 0 : i;
}

/** Inode ids of a cgroup and every cgroup below it. */
export function subtreeIds(dir: string): string[] {
  const out: string[] = [];
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    try {
      out.push(String(statSync(d, { bigint: true }).ino));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) stack.push(path.join(d, e.name));
    } catch {
      /* removed while walking */
    }
  }
  return out;
}

/** probes/sched.bt with its scope written into BEGIN, and its positional parameters. */
export function schedProgram(scope: SchedScope, intervalMs: number, procCgroups: string): { program: string; args: string[] } {
  const text = readFileSync(probePath('sched'), 'utf8');
  let kind = 0;
  let lines: string[] = [];
  if (scope.pids && scope.pids.length > 0) {
    kind = 1;
    lines = scope.pids.map((p) => `@scope[${p}] = 1;`);
  } else if (scope.cgroup) {
    kind = 2;
    lines = subtreeIds(scope.cgroup.path).map((id) => `@cgscope[${id}] = 1;`);
  }
  const program = text.replace('// TUNER_SCOPE', lines.join(' '));
  const hier = scope.cgroup?.hierarchy.version === 2 ? 1 : 0;
  const args = [
    String(Math.max(1, Math.round(intervalMs))),
    String(kind),
    String(hier),
    String(cpuSubsysIndex(procCgroups)),
    scope.followChildren ? '1' : '0',
  ];
  return { program, args };
}

type KeyedMap = Record<string, unknown>;

/** Fold one interval's printed maps into a SchedDelta. */
export function schedDeltaFromMaps(maps: Map<string, KeyedMap>, intervalNs: number, ncpu: number): SchedDelta {
  const m = (name: string): KeyedMap => maps.get(name) ?? {};
  const tgids = new Set<string>();
  for (const name of ['@oncpu', '@vol', '@invol', '@waits']) for (const k of Object.keys(m(name))) tgids.add(k);
  const hist = (v: unknown): number[] => {
    const out: number[] = [];
    for (const b of (v as Array<{ min?: number; max?: number; count: number }>) ?? []) {
      const lo = num(b.min ?? 0);
      const slot = lo <= 1 ? 0 : Math.floor(Math.log2(lo));
      out[slot] = (out[slot] ?? 0) + num(b.count);
    }
    return Array.from(out, (c) => c ?? 0);
  };
  const val = (name: string, k: string): number => {
    const v = m(name)[k];
    return v === undefined ? 0 : num(v);
  };
  const procs: SchedProcDelta[] = [];
  for (const k of tgids) {
    const waitNs = val('@wait', k);
    procs.push({
      pid: Number(k),
      comm: String(m('@comm')[k] ?? ''),
      cgroupId: String(m('@cgid')[k] ?? ''),
      threads: 0,
      exited: false,
      oncpuNs: val('@oncpu', k),
      runDelayNs: waitNs,
      nvcsw: val('@vol', k),
      nivcsw: val('@invol', k),
      waits: val('@waits', k),
      waitNs,
      maxWaitNs: m('@maxw')[k] === undefined ? undefined : val('@maxw', k),
      histWakeup: hist(m('@hw')[k]),
      histPreempt: hist(m('@hp')[k]),
    });
  }
  const byCg = new Map<string, SchedCgroupDelta>();
  for (const p of procs) {
    const c = byCg.get(p.cgroupId) ?? {
      cgroupId: p.cgroupId,
      oncpuNs: 0,
      runDelayNs: 0,
      nvcsw: 0,
      nivcsw: 0,
      waits: 0,
      waitNs: 0,
      histWakeup: [],
      histPreempt: [],
    };
    c.oncpuNs += p.oncpuNs;
    c.runDelayNs += p.runDelayNs;
    c.nvcsw += p.nvcsw;
    c.nivcsw += p.nivcsw;
    c.waits += p.waits;
    c.waitNs += p.waitNs;
    c.histWakeup = histAdd(c.histWakeup, p.histWakeup);
    c.histPreempt = histAdd(c.histPreempt, p.histPreempt);
    byCg.set(p.cgroupId, c);
  }
  const cpus = Array.from({ length: ncpu }, (_, cpu) => ({
    cpu,
    switches: val('@cpu_sw', String(cpu)),
    waitNs: val('@cpu_wait', String(cpu)),
  }));
  return { intervalNs, procs, cgroups: [...byCg.values()], cpus };
}

export async function openSchedBpftrace(
  scope: SchedScope,
  intervalMs = 1000,
  warn: (message: string) => void = (m) => process.stderr.write(`tuner: warning: ${m}\n`),
): Promise<SignalReader<SchedDelta> & { selfTimed: true }> {
  const { program, args } = schedProgram(scope, intervalMs, readFileSync('/proc/cgroups', 'utf8'));
  const ncpu = os.cpus().length;
  const queue: SchedDelta[] = [];
  const waiters: Array<(d: SchedDelta) => void> = [];
  let maps = new Map<string, KeyedMap>();
  let lastNs: bigint | undefined;
  let failure: Error | undefined;
  const failWaiters: Array<(e: Error) => void> = [];

  const onRecord = (r: BpftraceRecord): void => {
    if (r.type === 'map' || r.type === 'hist') {
      for (const [name, value] of Object.entries(r.data as Record<string, KeyedMap>)) maps.set(name, value);
      return;
    }
    if (r.type !== 'printf' || typeof r.data !== 'string') return;
    const mark = /^tuner-(start|interval) (\d+)/.exec(r.data);
    if (!mark) return;
    const ns = BigInt(mark[2]!);
    if (mark[1] === 'interval' && lastNs !== undefined) {
      const d = schedDeltaFromMaps(maps, Number(ns - lastNs), ncpu);
      const w = waiters.shift();
      if (w) w(d);
      else queue.push(d);
    }
    maps = new Map();
    lastNs = ns;
  };

  // A line bpftrace printed that is not JSON is reported, never skipped in silence.
  const onBadLine = (line: string): void => warn(`bpftrace printed a line that is not JSON: ${line.slice(0, 120)}`);
  const run = await runBpftrace({ program, args, readyMarker: 'tuner-start', onRecord, onBadLine });
  const removeExit = onExit(() => run.kill());
  void run.exited.then((e) => {
    failure = new Error(`bpftrace ended (exit code ${e.exitCode})${e.stderr ? `: ${e.stderr}` : ''}`);
    for (const f of failWaiters.splice(0)) f(failure);
  });
  let closed = false;
  return {
    backend: 'bpftrace',
    selfTimed: true,
    helperPids: () => (run.pid === undefined ? [] : [run.pid]),
    close: () => {
      if (closed) return;
      closed = true;
      removeExit();
      run.kill();
    },
    read: () => {
      const d = queue.shift();
      if (d) return Promise.resolve(d);
      if (failure) return Promise.reject(failure);
      return new Promise<SchedDelta>((resolve, reject) => {
        waiters.push(resolve);
        failWaiters.push(reject);
      });
    },
  };
}
