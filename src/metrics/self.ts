/**
 * The agent's own cost: CPU time and resident memory of this process (with
 * the helpers it already reaped) plus the helpers still running (the
 * session's bpftool), read from /proc.
 */
import { readStat, readStatus, statusKb } from '../procfs/pid.js';

const TICKS = 100; // USER_HZ: /proc/PID/stat counts in 1/100 s on Linux

interface ProcCost {
  cpuSeconds: number;
  rssBytes: number;
}

function procCost(pid: number | 'self', withChildren: boolean): ProcCost | undefined {
  try {
    const st = readStat(pid);
    const status = readStatus(pid);
    if (!st || status === undefined) return undefined; // a helper that just exited
    const ticks = st.utime + st.stime + (withChildren ? st.cutime + st.cstime : 0);
    return { cpuSeconds: ticks / TICKS, rssBytes: statusKb(status, 'VmRSS') * 1024 };
  } catch {
    return undefined;
  }
}

/** This process and the given helpers (each counted once: readers may share one), summed. */
export function agentCost(helperPids: readonly number[]): ProcCost {
  const own = procCost('self', true) ?? { cpuSeconds: 0, rssBytes: 0 };
  let cpu = own.cpuSeconds;
  let rss = own.rssBytes;
  for (const pid of new Set(helperPids)) {
    const c = procCost(pid, false);
    if (c) {
      cpu += c.cpuSeconds;
      rss += c.rssBytes;
    }
  }
  return { cpuSeconds: cpu, rssBytes: rss };
}
