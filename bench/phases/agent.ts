/**
 * Agent cost in user space: CPU time and peak memory of the whole
 * `tuner watch sched` process tree (node, the bpftool batch, and helpers
 * that already exited, through their parent's cutime/cstime), sampled every
 * second: as an agent runs it (--json, records to a pipe) over a window with
 * the machine idle, then over one with `perf bench sched pipe` running
 * (cross-cpu: each CPU busy part of the time); then a shorter idle window of
 * the table view a person watches.
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
  /** `tuner watch sched --json --interval 1s`, records to a pipe (how an always-on agent runs). */
  idle: WindowResult;
  load: WindowResult;
  /** `tuner watch sched --interval 1s` drawing its table view, idle (how a person watches). */
  view: WindowResult;
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

/** Start a tuner watch, wait for its first output and half an interval more, then measure windows of it. */
async function withTuner<T>(args: string[], f: (pid: number) => Promise<T>): Promise<T> {
  const dir = pinDir('agent');
  const tuner = start('node', [CLI, 'watch', 'sched', '--interval', '1s', ...args], { TUNER_PIN_ROOT: dir });
  const err = stderrOf(tuner);
  try {
    let started = false;
    await lines(tuner, () => (started = true));
    if (!started) throw new Error(`tuner watch sched ended before its first output: ${err().trim().slice(0, 800)}`);
    // Let the first interval's work settle, then measure whole intervals.
    await sleep(500);
    return await f(tuner.pid!);
  } finally {
    await stop(tuner, 'SIGINT');
  }
}

export async function agentCost(opts: { seconds: number; viewSeconds: number; log: (s: string) => void }): Promise<AgentResult> {
  const [idle, load] = await withTuner(['--json'], async (pid) => {
    opts.log(`agent: --json, idle window, ${opts.seconds} s`);
    const idle = await window(pid, opts.seconds);
    const perf = await pipeLoad('cross-cpu');
    try {
      await sleep(500);
      opts.log(`agent: --json, window under perf bench sched pipe, ${opts.seconds} s`);
      return [idle, await window(pid, opts.seconds)] as const;
    } finally {
      await perf.stop();
    }
  });
  opts.log(`agent: table view, idle window, ${opts.viewSeconds} s`);
  const view = await withTuner([], (pid) => window(pid, opts.viewSeconds));
  return { intervalMs: 1000, idle, load, view };
}
