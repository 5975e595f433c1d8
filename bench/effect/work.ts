/**
 * The effect suite's workloads (bench/effect/workloads/effect.c) and the
 * cgroups they run in: every cgroup is created under a unique prefix
 * (tuner-effect-<pid>-<n>) and removed after the run, tasks moved out first;
 * every process is started by PID (bench/lib/spawn.ts) and stopped by PID.
 * A workload reports its own progress: a cumulative count every 250 ms, and
 * for the request loop the latency of every request, from its own clock.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { onCleanup } from '../lib/cleanup.js';
import { CACHE, BENCH_SRC } from '../lib/paths.js';
import { lines, run, start, stderrOf, stop, type Child } from '../lib/spawn.js';

/**
 * Pure cgroup v2 (the VM harness's guests boot one): one hierarchy at /sys/fs/cgroup, whose root has
 * cgroup.controllers; on a v1 or hybrid host that file is in the unified mount, not at the top.
 */
export const V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
export const CPU_MOUNT = V2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/cpu';
export const BLKIO_MOUNT = '/sys/fs/cgroup/blkio';
let seq = 0;

export interface Cgroup {
  path: string;
  add(pid: number): void;
  write(file: string, value: string): void;
  read(file: string): string;
  child(name: string): Cgroup;
}

function wrap(dir: string): Cgroup {
  return {
    path: dir,
    add: (pid) => writeFileSync(path.join(dir, 'cgroup.procs'), String(pid)),
    write: (file, value) => writeFileSync(path.join(dir, file), value),
    read: (file) => readFileSync(path.join(dir, file), 'utf8').trim(),
    child: (name) => {
      // On v2 a child has the cpu controller's files only when its parent enables it for its children.
      if (V2) enableCpu(dir);
      const d = path.join(dir, name);
      mkdirSync(d);
      return wrap(d);
    },
  };
}

/** Move every task of a subtree to the hierarchy root, then remove it, deepest first. */
function removeTree(dir: string, mount: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(path.join(dir, e.name), mount);
  for (let i = 0; i < 50; i++) {
    const pids = readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
    for (const p of pids) {
      try {
        writeFileSync(path.join(mount, 'cgroup.procs'), p);
      } catch {
        // exited meanwhile
      }
    }
    try {
      rmdirSync(dir);
      return;
    } catch {
      // a task still leaving: retry
    }
  }
  rmdirSync(dir);
}

/** cgroup v2: let `dir`'s children have the cpu controller (a no-op when it already does). */
function enableCpu(dir: string): void {
  const file = path.join(dir, 'cgroup.subtree_control');
  if (!readFileSync(file, 'utf8').split(/\s+/).includes('cpu')) writeFileSync(file, '+cpu');
}

/** A fresh cgroup under `mount`; removed at cleanup whatever happens. */
export function makeCgroup(mount = CPU_MOUNT): { cg: Cgroup; remove: () => void } {
  // The suite changes nothing outside its own cgroups: the root must already give its children the cpu controller.
  if (V2 && mount === CPU_MOUNT && !readFileSync(path.join(mount, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('cpu')) {
    throw new Error(
      `${mount}/cgroup.subtree_control: the cpu controller is not enabled for the root's children; the suite needs it and does not change the root`,
    );
  }
  const dir = path.join(mount, `tuner-effect-${process.pid}-${seq++}`);
  mkdirSync(dir);
  const remove = onCleanup(() => removeTree(dir, mount));
  return { cg: wrap(dir), remove };
}

/**
 * The workloads' binary, built when it is missing or older than its source. A guest of the VM harness has no
 * compiler: it runs the one built on the host (the image carries .cache/bench/effect), and says so if there is none.
 */
export async function effectBinary(): Promise<string> {
  const bin = path.join(CACHE, 'effect');
  const src = path.join(BENCH_SRC, 'effect', 'workloads', 'effect.c');
  if (existsSync(bin) && (!existsSync(src) || statSync(bin).mtimeMs >= statSync(src).mtimeMs)) return bin;
  if (!existsSync(src))
    throw new Error(`${bin} is missing and so is its source ${src}: build the suite on the host first (npm run effect)`);
  mkdirSync(CACHE, { recursive: true });
  await run('cc', ['-O2', '-pthread', '-Wall', '-o', bin, src]);
  return bin;
}

export interface Work {
  pid: number;
  child: Child;
  /** Date.now() at the workload's "ready" line (its t = 0, within a few ms). */
  t0: number;
  progress: Array<[number, number]>;
  /** [t ms, round-trip ns] per request (rpc, after stop). */
  latencies: Array<[number, number]>;
  stop(): Promise<void>;
}

export async function startWork(bin: string, args: readonly string[]): Promise<Work> {
  const child = start(bin, args);
  const err = stderrOf(child);
  const w: Work = { pid: 0, child, t0: 0, progress: [], latencies: [], stop: async () => stop(child, 'SIGTERM') };
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  void lines(child, (line) => {
    const f = line.split(' ');
    if (f[0] === 'ready') {
      w.pid = Number(f[1]);
      w.t0 = Date.now();
      ready();
    } else if (f[0] === 'p') w.progress.push([Number(f[1]), Number(f[2])]);
    else if (f[0] === 'l') w.latencies.push([Number(f[1]), Number(f[2])]);
  });
  await Promise.race([
    isReady,
    child.then(() => Promise.reject(new Error(`effect ${args.join(' ')} exited before it was ready: ${err()}`))),
  ]);
  return w;
}

/** The count at a workload time (ms), linearly interpolated between reports. */
function countAt(w: Work, t: number): number {
  const p = w.progress;
  if (p.length === 0) return 0;
  if (t <= p[0]![0]) return p[0]![1] * Math.max(0, t / p[0]![0]);
  for (let i = 1; i < p.length; i++) {
    const [t1, c1] = p[i]!;
    const [t0, c0] = p[i - 1]!;
    if (t <= t1) return c0 + ((c1 - c0) * (t - t0)) / (t1 - t0);
  }
  return p.at(-1)![1];
}

/** Progress per second between two wall-clock times (Date.now()). */
export function rate(w: Work, from: number, to: number): number {
  return ((countAt(w, to - w.t0) - countAt(w, from - w.t0)) * 1000) / (to - from);
}

/** Latency percentile (µs) of the requests sent between two wall-clock times. */
export function latency(w: Work, from: number, to: number, q: number): number {
  const xs = w.latencies.filter(([t]) => t >= from - w.t0 && t < to - w.t0).map(([, ns]) => ns / 1000);
  if (xs.length === 0) return NaN;
  xs.sort((a, b) => a - b);
  return xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
}

/** Threads of a process. */
export function threads(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map(Number);
}

/** Host CPU pressure: "some" stall time (µs, cumulative). */
export function cpuSomeUs(): number {
  const m = /^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
  return Number(m?.[1] ?? NaN);
}
