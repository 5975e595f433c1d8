/**
 * Agent cost in user space: CPU time and peak memory of the whole
 * `tuner watch sched` process tree (node, the bpftool batch, and helpers
 * that already exited, through their parent's cutime/cstime), sampled every
 * second over a window with the machine idle, then over one with
 * `perf bench sched pipe` running (cross-cpu: each CPU busy part of the time).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pinDir } from '../lib/attach.js';
import { CLI } from '../lib/paths.js';
import { pipeLoad } from '../lib/perf.js';
import { sampleTree, type TreeSample } from '../lib/proc.js';
import { lines, start, stderrOf, stop } from '../lib/spawn.js';

export interface WindowResult {
  seconds: number;
  cpuSeconds: number;
  /** CPU time over wall time, in percent of one CPU. */
  cpuPercent: number;
  /** Largest sum of the tree's VmHWM seen in the window (MB), and each process's VmHWM at its end. */
  peakRssMb: number;
  perProcess: Array<{ pid: number; comm: string; hwmMb: number; cpuSeconds: number }>;
  samples: number;
}

export interface AgentResult {
  intervalMs: number;
  idle: WindowResult;
  load: WindowResult;
}

const MB = 1024;

async function window(root: number, seconds: number): Promise<WindowResult> {
  const first = sampleTree(root);
  let peak = first.hwmKb;
  let last: TreeSample = first;
  const end = first.atMs + seconds * 1000;
  let n = 1;
  for (let k = 1; ; k++) {
    const due = first.atMs + k * 1000;
    if (due > end) break;
    await sleep(Math.max(0, due - performance.now()));
    last = sampleTree(root);
    peak = Math.max(peak, last.hwmKb);
    n++;
  }
  const wall = (last.atMs - first.atMs) / 1000;
  const cpu = last.cpuS - first.cpuS;
  const startOf = new Map(first.procs.map((p) => [p.pid, p.cpuS + p.childrenCpuS]));
  return {
    seconds: wall,
    cpuSeconds: cpu,
    cpuPercent: (100 * cpu) / wall,
    peakRssMb: peak / MB,
    perProcess: last.procs.map((p) => ({ pid: p.pid, comm: p.comm, hwmMb: p.hwmKb / MB, cpuSeconds: p.cpuS + p.childrenCpuS - (startOf.get(p.pid) ?? 0) })),
    samples: n,
  };
}

export async function agentCost(opts: { seconds: number; log: (s: string) => void }): Promise<AgentResult> {
  const dir = pinDir('agent');
  const tuner = start('node', [CLI, 'watch', 'sched', '--interval', '1s'], { TUNER_PIN_ROOT: dir });
  const err = stderrOf(tuner);
  try {
    let started = false;
    await lines(tuner, () => (started = true));
    if (!started) throw new Error(`tuner watch sched ended before its first view: ${err().trim().slice(0, 800)}`);
    // Let the first interval's work settle, then measure whole intervals.
    await sleep(500);
    opts.log(`agent: idle window, ${opts.seconds} s`);
    const idle = await window(tuner.pid!, opts.seconds);
    const load = await pipeLoad('cross-cpu');
    try {
      await sleep(500);
      opts.log(`agent: window under perf bench sched pipe, ${opts.seconds} s`);
      const loaded = await window(tuner.pid!, opts.seconds);
      return { intervalMs: 1000, idle, load: loaded };
    } finally {
      await load.stop();
    }
  } finally {
    await stop(tuner, 'SIGINT');
  }
}
