/**
 * What a command observes and may act on: a PID set, a cgroup subtree, or
 * the whole host. Validated up front (bad input throws UsageError before
 * anything is loaded or written).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { detectLayout, type CgroupLayout } from '../cgroup/layout.js';
import { resolveCgroup, type ResolvedCgroup } from '../cgroup/resolve.js';

export interface Scope {
  pids?: number[];
  cgroup?: ResolvedCgroup;
  layout: CgroupLayout;
}

export function resolveScope(opts: { pids?: number[]; cgroup?: string }, layout: CgroupLayout = detectLayout()): Scope {
  if (opts.pids && opts.cgroup !== undefined) throw new UsageError('--pid and --cgroup cannot be combined: choose one scope');
  const scope: Scope = { layout };
  if (opts.pids) scope.pids = opts.pids;
  if (opts.cgroup !== undefined) scope.cgroup = resolveCgroup(opts.cgroup, layout);
  return scope;
}

/** The unified-hierarchy cgroup of a process ("/" when none), from /proc/PID/cgroup. */
export function unifiedCgroupOf(pid: number): string | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    return line ? line.slice(3) || '/' : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The unified (v2) cgroup that corresponds to the scope's cgroup: itself on
 * v2; on hybrid hosts the cgroup of the same name in the unified tree, when
 * it exists (systemd mirrors its tree there).
 */
export function unifiedCounterpart(scope: Scope): string | undefined {
  const cg = scope.cgroup;
  const unified = scope.layout.unified;
  if (!cg || !unified) return undefined;
  if (cg.hierarchy.version === 2) return cg.name;
  return existsSync(path.join(unified.mountPoint, cg.name)) ? cg.name : undefined;
}
