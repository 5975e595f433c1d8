/**
 * CPU and NUMA topology from sysfs: online CPUs, SMT siblings (cores), and
 * nodes with their CPUs. The sysfs root is a parameter so tests can point it
 * at a fake tree.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseCpuList } from './cpulist.js';

export interface Topology {
  online: number[];
  /** Each core as its SMT siblings (sorted; one CPU per core without SMT). */
  cores: number[][];
  nodes: Array<{ node: number; cpus: number[] }>;
}

function readList(file: string): number[] | undefined {
  try {
    return parseCpuList(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function readTopology(sysRoot = '/sys'): Topology {
  const cpuDir = path.join(sysRoot, 'devices/system/cpu');
  const online = readList(path.join(cpuDir, 'online')) ?? [];
  const seen = new Set<number>();
  const cores: number[][] = [];
  for (const cpu of online) {
    if (seen.has(cpu)) continue;
    const sib = (readList(path.join(cpuDir, `cpu${cpu}`, 'topology/thread_siblings_list')) ?? [cpu]).filter((c) => online.includes(c));
    const core = sib.includes(cpu) ? sib : [cpu, ...sib];
    for (const c of core) seen.add(c);
    cores.push(core.sort((a, b) => a - b));
  }
  const nodeDir = path.join(sysRoot, 'devices/system/node');
  let nodeIds = readList(path.join(nodeDir, 'online'));
  if (nodeIds === undefined) {
    try {
      nodeIds = readdirSync(nodeDir)
        .map((n) => /^node(\d+)$/.exec(n)?.[1])
        .filter((n): n is string => n !== undefined)
        .map(Number)
        .sort((a, b) => a - b);
    } catch {
      nodeIds = [];
    }
  }
  const nodes = nodeIds.map((node) => ({ node, cpus: readList(path.join(nodeDir, `node${node}`, 'cpulist')) ?? [] }));
  // A kernel without NUMA has no node directory: one implicit node holding every CPU.
  if (nodes.length === 0) nodes.push({ node: 0, cpus: online });
  return { online, cores, nodes };
}

/** The node a CPU belongs to (undefined when unknown). */
export function nodeOfCpu(topo: Topology, cpu: number): number | undefined {
  return topo.nodes.find((n) => n.cpus.includes(cpu))?.node;
}

/**
 * CPUs ordered to avoid SMT siblings: the first CPU of every core, then the
 * second of every core, and so on. Only CPUs in `allowed` are returned.
 */
export function spreadOrder(topo: Topology, allowed: readonly number[]): number[] {
  const ok = new Set(allowed);
  const cores = topo.cores.map((c) => c.filter((x) => ok.has(x))).filter((c) => c.length > 0);
  // CPUs in `allowed` that the topology does not list count as cores of their own.
  const listed = new Set(cores.flat());
  for (const c of allowed) if (!listed.has(c)) cores.push([c]);
  const out: number[] = [];
  for (let round = 0; out.length < ok.size && round < 64; round++)
    for (const core of cores) if (core[round] !== undefined) out.push(core[round]!);
  return out;
}
