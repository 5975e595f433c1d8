/**
 * The agent's own cost: CPU time and resident memory of this process (with
 * the helpers it already reaped) plus the helpers still running (the
 * session's bpftool), read from /proc.
 */
import { readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ: /proc/PID/stat counts in 1/100 s on Linux

interface ProcCost {
  cpuSeconds: number;
  rssBytes: number;
}

function procCost(pid: number | 'self', withChildren: boolean): ProcCost | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the comm: state(3) ... utime(14) stime(15) cutime(16) cstime(17) ... rss(24), 1-based in proc(5).
    const ticks = Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    return { cpuSeconds: ticks / TICKS, rssBytes: rssKb * 1024 };
  } catch {
    return undefined; // a helper that just exited
  }
}

/** This process and the given helpers, summed. */
export function agentCost(helperPids: readonly number[]): ProcCost {
  const own = procCost('self', true) ?? { cpuSeconds: 0, rssBytes: 0 };
  let cpu = own.cpuSeconds;
  let rss = own.rssBytes;
  for (const pid of helperPids) {
    const c = procCost(pid, false);
    if (c) {
      cpu += c.cpuSeconds;
      rss += c.rssBytes;
    }
  }
  return { cpuSeconds: cpu, rssBytes: rss };
}
