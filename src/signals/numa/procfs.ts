/**
 * The NUMA signal, from procfs and sysfs only (no BPF): per-node allocation
 * counters (/sys/devices/system/node/nodeN/numastat, cumulative) and, for the
 * processes in scope, where their pages are (/proc/PID/numa_maps) and which
 * node their threads last ran on (/proc/PID/task/TID/stat). Both roots are
 * parameters so tests can use a fake tree.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { nodeOfCpu, readTopology, type Topology } from '../../topology/topology.js';
import { formatCpuList } from '../../topology/cpulist.js';
import { parseStat } from '../../procfs/pid.js';

export const NUMASTAT_FIELDS = ['numa_hit', 'numa_miss', 'numa_foreign', 'interleave_hit', 'local_node', 'other_node'] as const;
export type NumaStat = Record<(typeof NUMASTAT_FIELDS)[number], number>;

export interface NumaProcSample {
  pid: number;
  comm: string;
  /** Resident pages per node. */
  pages: Map<number, number>;
  /** Threads by the node of the CPU they last ran on. */
  threadsOnNode: Map<number, number>;
}

export interface NumaSnapshot {
  nodes: Array<{ node: number; cpus: number[]; stat: NumaStat }>;
  procs: NumaProcSample[];
}

export interface NumaDelta {
  intervalNs: number;
  cur: NumaSnapshot;
  prev: NumaSnapshot;
}

export interface NumaScope {
  /** Exactly these processes. */
  pids?: number[];
  /** Or every process of this cgroup directory and its descendants. */
  cgroupDir?: string;
  /** At most this many processes (the largest by resident pages). */
  top?: number;
}

export interface NumaRoots {
  sysRoot?: string;
  procRoot?: string;
}

export function parseNumastat(text: string): NumaStat {
  const out = Object.fromEntries(NUMASTAT_FIELDS.map((f) => [f, 0])) as NumaStat;
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && (NUMASTAT_FIELDS as readonly string[]).includes(k)) out[k as keyof NumaStat] = Number(v);
  }
  return out;
}

/** Pages per node summed over every mapping of /proc/PID/numa_maps ("N0=12 N1=3" tokens). */
export function parseNumaMaps(text: string): Map<number, number> {
  const pages = new Map<number, number>();
  for (const m of text.matchAll(/\bN(\d+)=(\d+)/g)) {
    const node = Number(m[1]);
    pages.set(node, (pages.get(node) ?? 0) + Number(m[2]));
  }
  return pages;
}

/**
 * A node holds a process's pages when it has at least this share of them: a
 * few pages of shared libraries or page cache that sit on another node (as
 * under `numactl --membind`) do not make a placement a split.
 */
export const HOLDS_SHARE = 0.05;

/** The nodes holding those pages (HOLDS_SHARE of them at least), as a node list ("0-1"; "" for none). */
export function nodesWithPages(pages: ReadonlyMap<number, number>): string {
  const total = [...pages.values()].reduce((a, b) => a + b, 0);
  return formatCpuList([...pages].filter(([, n]) => n > 0 && n >= HOLDS_SHARE * total).map(([node]) => node));
}

/** Field 39 of /proc/PID/task/TID/stat: the CPU the thread last ran on. */
export function lastCpuOf(statText: string): number | undefined {
  return parseStat(statText)?.processor;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every process of a cgroup directory and its descendants (cgroup.procs files). */
export function pidsOfCgroupTree(dir: string): number[] {
  const out: number[] = [];
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const l of (readText(path.join(d, 'cgroup.procs')) ?? '').split('\n')) if (/^\d+$/.test(l)) out.push(Number(l));
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) stack.push(path.join(d, e.name));
    } catch {
      /* vanished */
    }
  }
  return out;
}

function readProc(pid: number, procRoot: string, topo: Topology): NumaProcSample | undefined {
  const maps = readText(path.join(procRoot, String(pid), 'numa_maps'));
  if (maps === undefined) return undefined;
  const threadsOnNode = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(path.join(procRoot, String(pid), 'task'));
  } catch {
    /* exited */
  }
  for (const tid of tids) {
    const stat = readText(path.join(procRoot, String(pid), 'task', tid, 'stat'));
    const cpu = stat === undefined ? undefined : lastCpuOf(stat);
    const node = cpu === undefined ? undefined : nodeOfCpu(topo, cpu);
    if (node !== undefined) threadsOnNode.set(node, (threadsOnNode.get(node) ?? 0) + 1);
  }
  const comm = (readText(path.join(procRoot, String(pid), 'comm')) ?? '').trim();
  return { pid, comm, pages: parseNumaMaps(maps), threadsOnNode };
}

export function readNuma(scope: NumaScope, roots: NumaRoots = {}): NumaSnapshot {
  const sysRoot = roots.sysRoot ?? '/sys';
  const procRoot = roots.procRoot ?? '/proc';
  const topo = readTopology(sysRoot);
  const nodes = topo.nodes.map((n) => ({
    node: n.node,
    cpus: n.cpus,
    stat: parseNumastat(readText(path.join(sysRoot, 'devices/system/node', `node${n.node}`, 'numastat')) ?? ''),
  }));
  const pids = scope.pids ?? (scope.cgroupDir ? pidsOfCgroupTree(scope.cgroupDir) : []);
  const procs = pids.map((p) => readProc(p, procRoot, topo)).filter((p): p is NumaProcSample => p !== undefined);
  const total = (p: NumaProcSample): number => [...p.pages.values()].reduce((a, b) => a + b, 0);
  procs.sort((a, b) => total(b) - total(a) || a.pid - b.pid);
  if (scope.top !== undefined && !scope.pids) procs.splice(scope.top);
  return { nodes, procs };
}

/** A pull reader: each read() returns the interval since the previous one. */
export function openNuma(scope: NumaScope, roots: NumaRoots = {}): { read(): NumaDelta; close(): void } {
  let prev = readNuma(scope, roots);
  let last = process.hrtime.bigint();
  return {
    read() {
      const cur = readNuma(scope, roots);
      const now = process.hrtime.bigint();
      const d: NumaDelta = { intervalNs: Number(now - last), cur, prev };
      prev = cur;
      last = now;
      return d;
    },
    close() {},
  };
}
