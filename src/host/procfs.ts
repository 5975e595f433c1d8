/** Threads of a process and their identities, from /proc (root injectable for tests). */
import { readFileSync, readdirSync } from 'node:fs';
import { readStat } from '../procfs/pid.js';

export interface ThreadInfo {
  tid: number;
  /** Start time in clock ticks since boot: with the TID, identifies the thread across TID reuse. */
  start: number;
  /** One-letter state (R running or runnable, S sleeping, ...). */
  state: string;
  /** CPU it last ran on. */
  lastCpu: number | undefined;
}

export function threadInfo(pid: number, tid: number, procRoot = '/proc'): ThreadInfo | undefined {
  const st = readStat(pid, tid, procRoot);
  return st && { tid, start: st.start, state: st.state || '?', lastCpu: st.processor };
}

/** Start time of a thread, or undefined when it is gone. */
export function threadStart(pid: number, tid: number, procRoot = '/proc'): number | undefined {
  return threadInfo(pid, tid, procRoot)?.start;
}

export function threadsOf(pid: number, procRoot = '/proc'): ThreadInfo[] {
  let tids: string[];
  try {
    tids = readdirSync(`${procRoot}/${pid}/task`);
  } catch {
    return [];
  }
  return tids
    .map((t) => threadInfo(pid, Number(t), procRoot))
    .filter((t): t is ThreadInfo => t !== undefined)
    .sort((a, b) => a.tid - b.tid);
}

/**
 * The cgroup of a process in one hierarchy, from /proc/PID/cgroup: the line
 * whose controller list holds `controller` (v1), or the "0::" line (v2).
 */
export function cgroupOfPid(pid: number, controller: string | undefined, procRoot = '/proc'): string | undefined {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (controller === undefined ? m[1] === '0' && m[2] === '' : m[2]!.split(',').includes(controller)) return m[3] || '/';
  }
  return undefined;
}
