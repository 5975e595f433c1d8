/** One process's files under /proc: its name, and (see stat.ts) its stat line. */
import { readFileSync } from 'node:fs';

/** The process's command name, or '' when it is gone. */
export function commOf(pid: number, procRoot = '/proc'): string {
  try {
    return readFileSync(`${procRoot}/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
