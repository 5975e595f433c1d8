/** The record `watch numa --json` prints, from two NUMA readings. */
import { formatCpuList } from '../../topology/cpulist.js';
import { NUMASTAT_FIELDS, type NumaDelta, type NumaStat } from './procfs.js';

export interface NumaNodeRecord extends NumaStat {
  node: number;
  cpus: string;
  /** Allocations that missed their preferred node, % of this node's allocations in the interval. */
  miss_pct: number;
  /** Allocations made here by processes running on another node, % of the interval's allocations. */
  other_pct: number;
}

export interface NumaProcRecord {
  pid: number;
  comm: string;
  /** Resident pages per node ("0": n, ...). */
  pages: Record<string, number>;
  total_pages: number;
  /** Node most of its threads last ran on. */
  run_node: number | null;
  /** Node holding most of its pages. */
  home_node: number | null;
  /** Pages not on run_node, and their share of total_pages (%). */
  remote_pages: number;
  remote_pct: number;
}

export interface NumaRecord {
  signal: 'numa';
  ts: string;
  interval_ms: number;
  nodes: NumaNodeRecord[];
  procs: NumaProcRecord[];
}

const r2 = (x: number): number => Math.round(x * 100) / 100;
const pct = (part: number, whole: number): number => (whole > 0 ? r2((100 * part) / whole) : 0);

/** The key with the largest value (smallest key on ties), or null for an empty map. */
function argmax(m: Map<number, number>): number | null {
  let best: number | null = null;
  for (const [k, v] of [...m.entries()].sort((a, b) => a[0] - b[0])) if (best === null || v > m.get(best)!) best = k;
  return best;
}

export function buildNumaRecord(d: NumaDelta, now: Date): NumaRecord {
  const before = new Map(d.prev.nodes.map((n) => [n.node, n.stat]));
  const nodes = d.cur.nodes.map((n): NumaNodeRecord => {
    const p = before.get(n.node);
    const delta = Object.fromEntries(NUMASTAT_FIELDS.map((f) => [f, Math.max(0, n.stat[f] - (p?.[f] ?? n.stat[f]))])) as NumaStat;
    return {
      node: n.node,
      cpus: formatCpuList(n.cpus),
      ...delta,
      miss_pct: pct(delta.numa_miss, delta.numa_hit + delta.numa_miss),
      other_pct: pct(delta.other_node, delta.local_node + delta.other_node),
    };
  });
  const procs = d.cur.procs.map((p): NumaProcRecord => {
    const total = [...p.pages.values()].reduce((a, b) => a + b, 0);
    const runNode = argmax(p.threadsOnNode);
    const remote = runNode === null ? 0 : total - (p.pages.get(runNode) ?? 0);
    return {
      pid: p.pid,
      comm: p.comm,
      pages: Object.fromEntries([...p.pages.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v])),
      total_pages: total,
      run_node: runNode,
      home_node: argmax(p.pages),
      remote_pages: remote,
      remote_pct: pct(remote, total),
    };
  });
  return { signal: 'numa', ts: now.toISOString(), interval_ms: Math.round(d.intervalNs / 1e5) / 10, nodes, procs };
}
