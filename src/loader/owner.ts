/**
 * Pin directories are named after the process that owns them,
 * `<pid>-<starttime>-<object>`, so a later run can tell pins of a live tuner
 * from pins a killed one left behind (a PID alone could have been reused).
 */
import { readStat } from '../procfs/pid.js';

export interface Owner {
  pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/PID/stat). */
  start: number;
}

/** State (field 3) and start time (field 22) of /proc/PID/stat, or undefined when there is no such entry. */
export function processStat(pid: number, procRoot = '/proc'): { state: string; start: number } | undefined {
  const st = readStat(pid, undefined, procRoot);
  return st && Number.isFinite(st.start) ? { state: st.state, start: st.start } : undefined;
}

/** Field 22 of /proc/PID/stat, or undefined when the process is gone. */
export function processStartTime(pid: number): number | undefined {
  return processStat(pid)?.start;
}

export function selfOwner(): Owner {
  return { pid: process.pid, start: processStartTime(process.pid) ?? 0 };
}

export function ownerDirName(owner: Owner, object: string): string {
  return `${owner.pid}-${owner.start}-${object}`;
}

export function parseOwnerDirName(name: string): (Owner & { object: string }) | undefined {
  const m = /^(\d+)-(\d+)-([\w.-]+)$/.exec(name);
  if (!m) return undefined;
  return { pid: Number(m[1]), start: Number(m[2]), object: m[3]! };
}

/**
 * True when the owner process still runs: same PID, same start time, and not
 * a zombie (Z) or dead (X). A killed tuner stays a zombie until its parent
 * reaps it, which a slow or missing init may never do; it reverts nothing
 * meanwhile, so its journal and pins are stale from the moment it died.
 */
export function ownerAlive(owner: Owner, procRoot = '/proc'): boolean {
  const st = processStat(owner.pid, procRoot);
  return st !== undefined && st.start === owner.start && st.state !== 'Z' && st.state !== 'X';
}
