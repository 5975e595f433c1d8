/**
 * What the kernel already accounts for a process, read from /proc and its
 * cgroup files at no cost: threads, CPU time, run-queue wait, switches,
 * affinity, NUMA placement, CFS quota and throttling, pressure. Read at the
 * start and the end of the window; the differences are exact.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { CgroupLayout } from '../cgroup/layout.js';
import { readStat, readStatus, statusField } from '../procfs/pid.js';

export interface ProcSnapshot {
  pid: number;
  comm: string;
  threads: number;
  /** utime + stime, clock ticks. */
  cpuTicks: number;
  /** Sums over threads of /proc/PID/task/TID/schedstat. */
  oncpuNs: number;
  runDelayNs: number;
  cpusAllowed: string;
  memsAllowed: string;
  /** Resident pages per NUMA node (from numa_maps), when readable. */
  nodePages: Record<string, number>;
}

export interface CgroupCpu {
  /** The cpu controller's cgroup of the process, relative to its hierarchy, and the directory. */
  name: string;
  dir: string;
  version: 1 | 2;
  /** CPUs worth of quota (quota / period), or null when unlimited. */
  quotaCpus: number | null;
  periodUs: number | null;
  nrPeriods: number;
  nrThrottled: number;
  throttledUs: number;
}

export function readProc(pid: number): ProcSnapshot | undefined {
  const status = readStatus(pid);
  const stat = readStat(pid);
  if (status === undefined || !stat) return undefined;
  const field = (name: string): string => statusField(status, name);
  let oncpuNs = 0;
  let runDelayNs = 0;
  let threads = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const [on, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
        oncpuNs += on!;
        runDelayNs += wait!;
        threads++;
      } catch {
        /* thread exited */
      }
    }
  } catch {
    return undefined;
  }
  const nodePages: Record<string, number> = {};
  try {
    for (const m of readFileSync(`/proc/${pid}/numa_maps`, 'utf8').matchAll(/\bN(\d+)=(\d+)/g)) {
      nodePages[m[1]!] = (nodePages[m[1]!] ?? 0) + Number(m[2]);
    }
  } catch {
    /* no NUMA support, or not permitted */
  }
  return {
    pid,
    comm: field('Name'),
    threads,
    cpuTicks: stat.utime + stat.stime,
    oncpuNs,
    runDelayNs,
    cpusAllowed: field('Cpus_allowed_list'),
    memsAllowed: field('Mems_allowed_list'),
    nodePages,
  };
}

/** The cpu controller's cgroup directory of a process (v1 `cpu` line, or the v2 `0::` line). */
export function cpuCgroupDir(pid: number, layout: CgroupLayout): { name: string; dir: string; version: 1 | 2 } | undefined {
  const h = layout.cpu;
  if (!h) return undefined;
  let lines: string[];
  try {
    lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const line = h.version === 1 ? lines.find((l) => l.split(':')[1]?.split(',').includes('cpu')) : lines.find((l) => l.startsWith('0::'));
  if (!line) return undefined;
  const name = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1) || '/';
  const rootRel = h.root === '/' ? name : path.relative(h.root, name) || '.';
  return { name, dir: path.join(h.mountPoint, rootRel.startsWith('/') ? rootRel.slice(1) : rootRel), version: h.version };
}

function num(file: string): number | undefined {
  try {
    const v = readFileSync(file, 'utf8').trim();
    return v === 'max' ? undefined : Number(v);
  } catch {
    return undefined;
  }
}

export function readCgroupCpu(where: { name: string; dir: string; version: 1 | 2 }): CgroupCpu {
  let quotaCpus: number | null = null;
  let periodUs: number | null = null;
  if (where.version === 1) {
    const quota = num(path.join(where.dir, 'cpu.cfs_quota_us'));
    periodUs = num(path.join(where.dir, 'cpu.cfs_period_us')) ?? null;
    if (quota !== undefined && quota > 0 && periodUs) quotaCpus = quota / periodUs;
  } else {
    try {
      const [q, p] = readFileSync(path.join(where.dir, 'cpu.max'), 'utf8').trim().split(/\s+/);
      periodUs = Number(p);
      if (q !== 'max') quotaCpus = Number(q) / periodUs;
    } catch {
      /* the root has no cpu.max */
    }
  }
  const stat: Record<string, number> = {};
  if (existsSync(path.join(where.dir, 'cpu.stat'))) {
    for (const line of readFileSync(path.join(where.dir, 'cpu.stat'), 'utf8').split('\n')) {
      const [k, v] = line.split(' ');
      if (k) stat[k] = Number(v);
    }
  }
  return {
    ...where,
    quotaCpus,
    periodUs,
    nrPeriods: stat.nr_periods ?? 0,
    nrThrottled: stat.nr_throttled ?? 0,
    // v1 reports ns (throttled_time), v2 µs (throttled_usec).
    throttledUs: stat.throttled_usec ?? (stat.throttled_time ?? 0) / 1000,
  };
}
