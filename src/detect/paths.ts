/**
 * The signal paths detectors may name, declared once: `<signal>.<field>` for
 * a value of the whole scope (`psi.cpu.some_avg10`), or
 * `<signal>.<collection>.<field>` for one value per entity of a record's
 * collection (`sched.cgroups.wait_share`: one per cgroup). Values are read
 * from records as `watch --json` prints them, plus a few derived fields
 * (computed in derive.ts). README lists the same table.
 */

export const SIGNAL_FAMILIES = ['sched', 'psi', 'io', 'numa'] as const;
export type SignalFamily = (typeof SIGNAL_FAMILIES)[number];

/** What a value is about: the whole scope, or one cgroup, process, CPU, device or node. */
export type EntityKind = 'scope' | 'cgroup' | 'unified' | 'pid' | 'cpu' | 'device' | 'node';

export interface Entity {
  kind: EntityKind;
  /** cgroup name ("/a/b"), PID, CPU, device or node number as text; "scope" for scope-wide values. */
  key: string;
}

interface Collection {
  kind: EntityKind;
  /** The field of each element that names it. */
  key: string;
}

/** Collections of each record (arrays of per-entity elements). */
export const COLLECTIONS: Record<SignalFamily, Record<string, Collection>> = {
  sched: { cgroups: { kind: 'cgroup', key: 'cgroup' }, procs: { kind: 'pid', key: 'pid' }, cpus: { kind: 'cpu', key: 'cpu' } },
  psi: { cgroups: { kind: 'unified', key: 'cgroup' } },
  io: { devices: { kind: 'device', key: 'dev' }, procs: { kind: 'pid', key: 'pid' } },
  numa: { nodes: { kind: 'node', key: 'node' }, procs: { kind: 'pid', key: 'pid' } },
};

export interface SignalPath {
  path: string;
  unit: string;
  doc: string;
}

const psiFields = (prefix: string, who: string): SignalPath[] =>
  (['cpu', 'memory', 'io'] as const).flatMap((r) => [
    { path: `${prefix}.${r}.some_avg10`, unit: '%', doc: `${who}: share of time some task stalled on ${r}, kernel 10 s average` },
    { path: `${prefix}.${r}.some_avg60`, unit: '%', doc: `${who}: the same, 60 s average` },
    { path: `${prefix}.${r}.some_pct`, unit: '%', doc: `${who}: share of the interval some task stalled on ${r}` },
    { path: `${prefix}.${r}.full_avg10`, unit: '%', doc: `${who}: share of time all non-idle tasks stalled on ${r}, 10 s average` },
    { path: `${prefix}.${r}.full_avg60`, unit: '%', doc: `${who}: the same, 60 s average` },
    { path: `${prefix}.${r}.full_pct`, unit: '%', doc: `${who}: share of the interval all non-idle tasks stalled on ${r}` },
  ]);

export const SIGNAL_PATHS: readonly SignalPath[] = [
  { path: 'sched.runq.p50_us', unit: 'µs', doc: 'median run-queue wait of the tasks in scope' },
  { path: 'sched.runq.p99_us', unit: 'µs', doc: '99th percentile run-queue wait of the tasks in scope' },
  { path: 'sched.runq.max_us', unit: 'µs', doc: 'longest run-queue wait in the interval' },
  { path: 'sched.runq.wait_ns', unit: 'ns', doc: 'total run-queue wait of the tasks in scope' },
  { path: 'sched.switches', unit: 'count', doc: 'context switches in the interval' },
  { path: 'sched.involuntary', unit: 'count', doc: 'preemptions in the interval' },
  {
    path: 'sched.outside.runq_wait_ns',
    unit: 'ns',
    doc: "run-queue wait of the tasks outside the scope (every CPU's waits less the scope's): what the scope costs the rest of the host",
  },
  { path: 'sched.outside.runq_len_avg', unit: 'tasks', doc: 'the same as the mean number of tasks outside the scope waiting for a CPU' },
  {
    path: 'sched.cgroups.wait_share',
    unit: '0..1',
    doc: "per cgroup: run-queue wait / (wait + on-CPU), the share of its tasks' runnable time spent waiting",
  },
  { path: 'sched.cgroups.cpu_share', unit: '0..1', doc: 'per cgroup (derived): its share of the on-CPU time of all cgroups in scope' },
  {
    path: 'sched.cgroups.machine_share',
    unit: '0..1',
    doc: 'per cgroup (derived): on-CPU time / (interval x CPUs), its share of the whole machine',
  },
  { path: 'sched.cgroups.runq_wait_ns', unit: 'ns', doc: 'per cgroup: run-queue wait in the interval' },
  { path: 'sched.cgroups.oncpu_ns', unit: 'ns', doc: 'per cgroup: on-CPU time in the interval' },
  { path: 'sched.cgroups.runq.p99_us', unit: 'µs', doc: 'per cgroup: 99th percentile run-queue wait' },
  { path: 'sched.procs.wait_share', unit: '0..1', doc: 'per process (derived): run-queue wait / (wait + on-CPU)' },
  {
    path: 'sched.procs.machine_share',
    unit: '0..1',
    doc: 'per process (derived): on-CPU time / (interval x CPUs), its share of the whole machine',
  },
  { path: 'sched.procs.runq_wait_ns', unit: 'ns', doc: 'per process: run-queue wait, threads summed' },
  { path: 'sched.procs.oncpu_ns', unit: 'ns', doc: 'per process: on-CPU time, threads summed' },
  { path: 'sched.procs.switches', unit: 'count', doc: 'per process: context switches' },
  { path: 'sched.procs.involuntary', unit: 'count', doc: 'per process: preemptions' },
  { path: 'sched.procs.runq.p99_us', unit: 'µs', doc: 'per process: 99th percentile run-queue wait' },
  { path: 'sched.cpus.runq_len_avg', unit: 'tasks', doc: "per CPU: mean number of tasks waiting on the CPU's run queue" },
  { path: 'sched.cpus.busy_pct', unit: '%', doc: 'per CPU: share of the interval the CPU was not idle' },
  ...psiFields('psi', 'host'),
  ...psiFields('psi.cgroups', 'per cgroup v2 (unified tree)'),
  { path: 'io.devices.iops', unit: '1/s', doc: 'per block device: completed requests per second' },
  { path: 'io.devices.reads', unit: 'count', doc: 'per block device: reads completed in the interval' },
  { path: 'io.devices.writes', unit: 'count', doc: 'per block device: writes completed in the interval' },
  { path: 'io.devices.read_bytes', unit: 'bytes', doc: 'per block device: bytes read' },
  { path: 'io.devices.write_bytes', unit: 'bytes', doc: 'per block device: bytes written' },
  { path: 'io.devices.read_seq_pct', unit: '%', doc: 'per block device: reads that started where the previous read ended' },
  { path: 'io.devices.avg_read_kb', unit: 'KiB', doc: 'per block device: mean read size' },
  { path: 'io.devices.lat.p50_us', unit: 'µs', doc: 'per block device: median request latency' },
  { path: 'io.devices.lat.p99_us', unit: 'µs', doc: 'per block device: 99th percentile request latency' },
  { path: 'io.devices.lat.max_us', unit: 'µs', doc: 'per block device: longest request' },
  { path: 'io.devices.read_lat.p50_us', unit: 'µs', doc: 'per block device: median read latency' },
  { path: 'io.devices.read_lat.p99_us', unit: 'µs', doc: 'per block device: 99th percentile read latency' },
  { path: 'io.devices.queue_lat.p50_us', unit: 'µs', doc: 'per block device: median time queued before dispatch' },
  { path: 'io.devices.queue_lat.p99_us', unit: 'µs', doc: 'per block device: 99th percentile time queued' },
  { path: 'io.procs.ios', unit: 'count', doc: 'per process: block requests issued' },
  { path: 'io.procs.wait_ns', unit: 'ns', doc: 'per process: time its requests took' },
  { path: 'numa.nodes.miss_pct', unit: '%', doc: 'per node: allocations that missed their preferred node' },
  { path: 'numa.nodes.other_pct', unit: '%', doc: 'per node: allocations here for processes running on another node' },
  { path: 'numa.nodes.numa_miss', unit: 'pages', doc: 'per node: allocations that missed their preferred node' },
  { path: 'numa.nodes.other_node', unit: 'pages', doc: 'per node: allocations for processes running on another node' },
  { path: 'numa.procs.remote_pct', unit: '%', doc: 'per process: resident pages not on the node its threads run on' },
  { path: 'numa.procs.remote_pages', unit: 'pages', doc: 'per process: resident pages not on the node its threads run on' },
  { path: 'numa.procs.total_pages', unit: 'pages', doc: 'per process: resident pages' },
];

export const SIGNAL_PATH_NAMES = SIGNAL_PATHS.map((p) => p.path) as [string, ...string[]];

export interface ParsedPath {
  family: SignalFamily;
  /** The collection, for per-entity paths. */
  collection?: string;
  entity: EntityKind;
  /** Field path inside the record (scope-wide) or inside each element. */
  field: string[];
}

/** Split a declared path into family, collection and field. */
export function parsePath(p: string): ParsedPath {
  const [family, ...rest] = p.split('.') as [SignalFamily, ...string[]];
  const coll = COLLECTIONS[family]?.[rest[0] ?? ''];
  // psi.cpu.* is scope-wide; psi.cgroups.cpu.* is per cgroup.
  if (coll) return { family, collection: rest[0]!, entity: coll.kind, field: rest.slice(1) };
  return { family, entity: 'scope', field: rest };
}

/** How a person names an entity: "/a/b", "pid 7", "cpu 1", "loop0", "node 0", "the scope". */
export function entityLabel(e: Entity): string {
  switch (e.kind) {
    case 'pid':
      return `pid ${e.key}`;
    case 'cpu':
      return `cpu ${e.key}`;
    case 'node':
      return `node ${e.key}`;
    case 'scope':
      return e.key === 'scope' || e.key === 'pids' ? 'the scope' : e.key;
    default:
      return e.key;
  }
}

/** The entity kind a path's values are about. */
export function entityOf(p: string): EntityKind {
  return parsePath(p).entity;
}
