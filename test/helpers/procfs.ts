/** The kernel's own accounting of a process: the ground truth kernel tests compare against. */
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcTruth {
  oncpuNs: number;
  runDelayNs: number;
  timeslices: number;
  voluntary: number;
  involuntary: number;
}

/**
 * Sums over the threads of /proc/PID/task/TID/schedstat and of the switch
 * counts in /proc/PID/task/TID/status (/proc/PID/status holds only the main
 * thread's own counts).
 */
export function procTruth(pid: number): ProcTruth {
  let oncpuNs = 0;
  let runDelayNs = 0;
  let timeslices = 0;
  let voluntary = 0;
  let involuntary = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [on, wait, n] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const field = (name: string): number => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
      oncpuNs += on!;
      runDelayNs += wait!;
      timeslices += n!;
      voluntary += field('voluntary_ctxt_switches');
      involuntary += field('nonvoluntary_ctxt_switches');
    } catch {
      /* thread exited */
    }
  }
  return { oncpuNs, runDelayNs, timeslices, voluntary, involuntary };
}

export function diffTruth(a: ProcTruth, b: ProcTruth): ProcTruth {
  return {
    oncpuNs: b.oncpuNs - a.oncpuNs,
    runDelayNs: b.runDelayNs - a.runDelayNs,
    timeslices: b.timeslices - a.timeslices,
    voluntary: b.voluntary - a.voluntary,
    involuntary: b.involuntary - a.involuntary,
  };
}

/** |a - b| / b */
export function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}
