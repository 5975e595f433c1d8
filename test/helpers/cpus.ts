/**
 * CPUs a kernel test pins its workloads to, so that what they do (who waits
 * for a CPU, how much) does not depend on how many CPUs the host has: CI
 * hosts may have more than two, or a cpuset that leaves out CPU 0.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The CPUs this process may run on (its affinity), in order. */
export function allowedCpus(): number[] {
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
  const out: number[] = [];
  for (const range of list.split(',')) {
    const [a, b] = range.split('-').map(Number);
    for (let c = a!; c <= (b ?? a!); c++) out.push(c);
  }
  return out;
}

/** The last `n` allowed CPUs (fewer when fewer are allowed), as a taskset list ("3" or "2,3"). */
export function pickCpus(n: number): string {
  return allowedCpus().slice(-n).join(',');
}

/** CPUs online on the host (what tuner's own topology counts). */
export const onlineCpus = (): number => os.cpus().length;
