/**
 * The workload: `perf bench sched pipe`, two processes passing a token
 * through a pair of pipes. Where the two run decides what a context switch
 * is, so the benchmark fixes it instead of leaving it to the scheduler
 * (unpinned, throughput on two CPUs jumps between the two cases from one run
 * to the next, by 30% and more):
 *
 *  - same-cpu: both on CPU 0; every switch goes from one task to the other
 *    (about 2 per operation), the costliest case for a per-switch probe;
 *  - cross-cpu: sender on CPU 0, receiver on CPU 1; each CPU switches between
 *    a task and idle (about 4 per operation), as producer/consumer pairs do.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { contextSwitches, processTree } from './proc.js';
import { run, start, stderrOf, type Child } from './spawn.js';

export const PLACEMENTS = ['same-cpu', 'cross-cpu'] as const;
export type Placement = (typeof PLACEMENTS)[number];

export interface PipeRun {
  loops: number;
  seconds: number;
  opsPerSec: number;
  /** Context switches on the whole machine during the run (/proc/stat ctxt). */
  switches: number;
}

/** Parse perf's report; ops/s is recomputed from the total time (perf rounds it to an integer). */
export function parsePipeBench(text: string, loops: number): { seconds: number; opsPerSec: number } {
  const m = /Total time:\s*([\d.]+)\s*\[sec\]/.exec(text);
  if (!m) throw new Error(`perf bench sched pipe: no "Total time" in its output: ${text.slice(0, 300)}`);
  const seconds = Number(m[1]);
  return { seconds, opsPerSec: loops / seconds };
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Start the pipe benchmark on CPU 0; for cross-cpu, move its second process to CPU 1 as soon as it is forked. */
// Returned in an object: a Child is a promise (of its result), and an async function would wait for it.
async function startPipe(loops: number, placement: Placement): Promise<{ child: Child }> {
  const child = start('taskset', ['-c', '0', 'perf', 'bench', 'sched', 'pipe', '-l', String(loops)]);
  if (placement === 'cross-cpu') {
    const deadline = performance.now() + 2000;
    let receiver: number | undefined;
    while (receiver === undefined && performance.now() < deadline && child.exitCode === null) {
      receiver = childrenOf(child.pid!)[0];
      if (receiver === undefined) await sleep(1);
    }
    if (receiver === undefined) throw new Error('perf bench sched pipe: its second process did not appear');
    await run('taskset', ['-p', '-c', '1', String(receiver)]);
  }
  return { child };
}

export async function pipeBench(loops: number, placement: Placement): Promise<PipeRun> {
  const before = contextSwitches();
  const { child } = await startPipe(loops, placement);
  const err = stderrOf(child);
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (c: string) => (out += c));
  const r = await child;
  const switches = contextSwitches() - before;
  if (r.exitCode !== 0) throw new Error(`perf bench sched pipe failed (exit code ${r.exitCode}): ${err().trim().slice(0, 300)}`);
  return { loops, switches, ...parsePipeBench(out, loops) };
}

/** The pipe benchmark running until stopped (background load); stop() ends both its processes. */
export async function pipeLoad(placement: Placement): Promise<{ stop(): Promise<void> }> {
  const { child } = await startPipe(2_000_000_000, placement);
  child.stdout!.resume();
  return {
    async stop() {
      // perf forks its second process: end both (we started them), the child first.
      for (const pid of processTree(child.pid!).reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await child;
    },
  };
}
