/** Per-CPU time from /proc/stat, for busy percentages. */
import { readFileSync } from 'node:fs';

export interface CpuTimes {
  cpu: number;
  /** Jiffies not idle and not iowait. */
  busy: number;
  total: number;
}

export function parseProcStat(text: string): CpuTimes[] {
  const out: CpuTimes[] = [];
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
    const total = (v[0] ?? 0) + (v[1] ?? 0) + (v[2] ?? 0) + (v[3] ?? 0) + (v[4] ?? 0) + (v[5] ?? 0) + (v[6] ?? 0) + (v[7] ?? 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    out.push({ cpu: Number(m[1]), busy: total - idle, total });
  }
  return out;
}

export function readCpuTimes(): CpuTimes[] {
  return parseProcStat(readFileSync('/proc/stat', 'utf8'));
}

/** Busy percentage per CPU between two readings. */
export function busyPercent(prev: CpuTimes[], cur: CpuTimes[]): Map<number, number> {
  const before = new Map(prev.map((c) => [c.cpu, c]));
  const out = new Map<number, number>();
  for (const c of cur) {
    const p = before.get(c.cpu);
    if (!p) continue;
    const dt = c.total - p.total;
    out.set(c.cpu, dt > 0 ? (100 * (c.busy - p.busy)) / dt : 0);
  }
  return out;
}
