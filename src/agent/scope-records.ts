/**
 * What a recipe sees in the agent: the agent observes the whole host, but a
 * recipe with a scope is judged on its scope, as `tuner run --cgroup` or
 * `--pid` would observe it. Per-cgroup and per-process lists are cut to the
 * scope, so derived shares (sched.cgroups.cpu_share: of the on-CPU time of
 * the cgroups in the record) are shares of the scope, not of the host,
 * whatever else runs on it. Scope-wide figures stay host-wide.
 */
import type { Json, SignalRecords } from '../detect/samples.js';

export interface RecordScope {
  /** Cgroup path (relative to its hierarchy's root). */
  cgroup?: string;
  pids?: readonly number[];
}

const within = (path: unknown, root: string): boolean =>
  typeof path === 'string' && (root === '/' || path === root || path.startsWith(`${root}/`));

function cut(record: Json | undefined, list: string, keep: (el: Json) => boolean): Json | undefined {
  if (!record || !Array.isArray(record[list])) return record;
  return { ...record, [list]: (record[list] as Json[]).filter((el) => el !== null && typeof el === 'object' && keep(el)) };
}

/** The records a recipe of this scope is judged on (the same objects when it has none). */
export function recordsInScope(records: SignalRecords, scope: RecordScope): SignalRecords {
  if (scope.cgroup === undefined && !scope.pids) return records;
  const out: SignalRecords = { ...records };
  const r = records as Record<string, Json | undefined>;
  const o = out as Record<string, Json | undefined>;
  if (scope.cgroup !== undefined) {
    const root = scope.cgroup;
    o.sched = cut(
      cut(r.sched, 'cgroups', (c) => within(c.cgroup, root)),
      'procs',
      (p) => within(p.cgroup, root),
    );
    o.psi = cut(r.psi, 'cgroups', (c) => within(c.cgroup, root));
  } else if (scope.pids) {
    const pids = new Set(scope.pids);
    for (const family of ['sched', 'io', 'numa']) o[family] = cut(r[family], 'procs', (p) => typeof p.pid === 'number' && pids.has(p.pid));
  }
  return out;
}
