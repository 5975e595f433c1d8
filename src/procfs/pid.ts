/**
 * One process's (or thread's) files under /proc, parsed in one place: its
 * stat line, named fields of its status file, its command name. Readers
 * return undefined when the process is gone. procRoot is a parameter so
 * tests use a fake tree.
 */
import { readFileSync } from 'node:fs';

/** The fields of /proc/PID/stat that tuner reads (proc(5) numbering in the comments). */
export interface PidStat {
  /** Field 2, without its parentheses (it may hold spaces and parentheses itself). */
  comm: string;
  /** Field 3: R running or runnable, S sleeping, D disk sleep, Z zombie, ... */
  state: string;
  /** Field 4: the parent's PID. */
  ppid: number;
  /** Fields 14 to 17, clock ticks: own user and system time, and that of waited-for children. */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  /** Field 20. */
  threads: number;
  /** Field 22: start time in clock ticks since boot (with the PID, identifies the process across PID reuse). */
  start: number;
  /** Field 39: the CPU it last ran on. */
  processor: number | undefined;
}

/** Parse a stat line; undefined when it is not one. */
export function parseStat(text: string): PidStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  // Fields resume after the last ')': f[0] is field 3.
  const f = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const n = (field: number): number => Number(f[field - 3]);
  return {
    comm: text.slice(open + 1, close),
    state: f[0] ?? '',
    ppid: n(4),
    utime: n(14),
    stime: n(15),
    cutime: n(16),
    cstime: n(17),
    threads: n(20),
    start: n(22),
    processor: Number.isInteger(n(39)) ? n(39) : undefined,
  };
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** /proc/PID/stat, or /proc/PID/task/TID/stat with a tid. */
export function readStat(pid: number | 'self', tid?: number, procRoot = '/proc'): PidStat | undefined {
  const text = read(tid === undefined ? `${procRoot}/${pid}/stat` : `${procRoot}/${pid}/task/${tid}/stat`);
  return text === undefined ? undefined : parseStat(text);
}

/** One field of a status file's text ("Name:\tvalue"), trimmed; '' when absent. */
export function statusField(status: string, name: string): string {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
}

/** /proc/PID/status, or undefined when the process is gone. */
export function readStatus(pid: number | 'self', procRoot = '/proc'): string | undefined {
  return read(`${procRoot}/${pid}/status`);
}

/** A size field of a status file ("VmRSS:   1234 kB"), kB; 0 when absent. */
export function statusKb(status: string, name: string): number {
  return Number(/^(\d+)/.exec(statusField(status, name))?.[1] ?? 0);
}

/** The process's command name, or '' when it is gone. */
export function commOf(pid: number, procRoot = '/proc'): string {
  return read(`${procRoot}/${pid}/comm`)?.trim() ?? '';
}
