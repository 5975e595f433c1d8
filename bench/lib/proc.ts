/**
 * The kernel's accounting the benchmark relies on: context switches from
 * /proc/stat `ctxt`, and CPU time and memory of a process tree from
 * /proc/PID/{stat,status,task/TID/children}.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Context switches on every CPU since boot (/proc/stat `ctxt`). */
export function contextSwitches(): number {
  const m = /^ctxt (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
  if (!m) throw new Error('/proc/stat has no ctxt line');
  return Number(m[1]);
}

/** Clock ticks per second of /proc/PID/stat times (USER_HZ). */
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

export interface ProcSample {
  pid: number;
  comm: string;
  /** Own CPU time, seconds (utime + stime). */
  cpuS: number;
  /** CPU time of children it has waited for, seconds (cutime + cstime). */
  childrenCpuS: number;
  /** Peak resident set so far (VmHWM), and now (VmRSS), KiB. */
  hwmKb: number;
  rssKb: number;
}

/** One process, or undefined when it is gone. */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    // comm may hold spaces and parentheses: fields resume after the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    // f[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
    const tick = (i: number): number => Number(f[i - 3]) / CLK_TCK;
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return {
      pid,
      comm,
      cpuS: tick(14) + tick(15),
      childrenCpuS: tick(16) + tick(17),
      hwmKb: kb('VmHWM'),
      rssKb: kb('VmRSS'),
    };
  } catch {
    return undefined;
  }
}

/** PIDs of pid and all its descendants (children of every thread, recursively). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) stack.push(Number(c));
      } catch {
        /* thread gone */
      }
    }
  }
  return out;
}

export interface TreeSample {
  atMs: number;
  procs: ProcSample[];
  /**
   * CPU seconds of the tree: each live process's own time plus what it
   * collected from children that exited. Differences between two samples
   * are exact as long as exited children are waited for by the tree
   * (node does), whether they lived through the window or not.
   */
  cpuS: number;
  /** Sum of every live process's VmHWM: an upper bound on the tree's peak resident memory. */
  hwmKb: number;
  /** Sum of VmRSS now. */
  rssKb: number;
}

export function sampleTree(root: number): TreeSample {
  const procs = processTree(root)
    .map(sampleProcess)
    .filter((p): p is ProcSample => p !== undefined);
  return {
    atMs: performance.now(),
    procs,
    cpuS: procs.reduce((s, p) => s + p.cpuS + p.childrenCpuS, 0),
    hwmKb: procs.reduce((s, p) => s + p.hwmKb, 0),
    rssKb: procs.reduce((s, p) => s + p.rssKb, 0),
  };
}

/** `uname -r`, CPU count and model, for the report header. */
export function machine(): { kernel: string; cpus: number; model: string } {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    cpus: (cpuinfo.match(/^processor\s*:/gm) ?? []).length,
    model: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? '',
  };
}
