/**
 * Turn a `--cgroup` argument into the cgroup it names: its absolute path,
 * hierarchy, kernfs id (the directory's inode number) and depth. Absolute
 * paths must lie inside a cgroup mount; relative ones are taken from the root
 * of the cpu controller's hierarchy (then the unified one). `..` cannot
 * escape the mount.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { CgroupLayout, Hierarchy } from './layout.js';

export interface ResolvedCgroup {
  /** Absolute path in the cgroup filesystem. */
  path: string;
  /** Path relative to the hierarchy root, "/" for the root itself. */
  name: string;
  hierarchy: Hierarchy;
  /** kernfs node id: what bpf_get_current_cgroup_id() and cgroup->kn->id return. */
  id: bigint;
  /** Depth below the hierarchy's true root (cgroup->level). */
  level: number;
}

export function resolveCgroup(arg: string, layout: CgroupLayout, flag = '--cgroup'): ResolvedCgroup {
  if (arg.trim() === '') throw new UsageError(`${flag}: expected a cgroup path, got an empty string`);
  const mounts = layout.hierarchies;
  if (mounts.length === 0) throw new UsageError(`${flag} ${arg}: this host has no cgroup filesystem mounted`);

  let hierarchy: Hierarchy | undefined;
  let abs: string;
  if (path.isAbsolute(arg)) {
    abs = path.resolve(arg);
    hierarchy = mounts
      .filter((h) => abs === h.mountPoint || abs.startsWith(h.mountPoint + '/'))
      .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
    if (!hierarchy) {
      const where = mounts.map((h) => h.mountPoint).join(', ');
      const rel = abs.replace(/^\/+/, '');
      const meant = [layout.cpu, layout.unified].find((h) => h && isDir(path.join(h.mountPoint, rel)));
      const hint = meant ? `; did you mean ${rel || '.'} (relative to ${meant.mountPoint})?` : '';
      throw new UsageError(`${flag} ${arg}: not inside a cgroup filesystem (cgroup mounts: ${where})${hint}`);
    }
  } else {
    const candidates = [layout.cpu, layout.unified].filter((h): h is Hierarchy => h !== undefined);
    if (candidates.length === 0) throw new UsageError(`${flag} ${arg}: no cpu or unified cgroup hierarchy to resolve a relative path in`);
    const tries = candidates.map((h) => ({ h, p: path.resolve(h.mountPoint, arg) }));
    for (const t of tries) {
      if (!insideMount(t.p, t.h)) throw new UsageError(`${flag} ${arg}: escapes the cgroup root ${t.h.mountPoint}`);
    }
    const found = tries.find((t) => isDir(t.p)) ?? tries[0]!;
    hierarchy = found.h;
    abs = found.p;
  }
  if (!insideMount(abs, hierarchy)) throw new UsageError(`${flag} ${arg}: escapes the cgroup root ${hierarchy.mountPoint}`);
  let st;
  try {
    st = statSync(abs, { bigint: true });
  } catch {
    throw new UsageError(`${flag} ${arg}: no such cgroup (${abs} does not exist)`);
  }
  if (!st.isDirectory()) throw new UsageError(`${flag} ${arg}: ${abs} is not a cgroup directory`);
  const rel = path.relative(hierarchy.mountPoint, abs);
  const below = rel === '' ? [] : rel.split(path.sep);
  const rootDepth = hierarchy.root === '/' ? 0 : hierarchy.root.split('/').filter(Boolean).length;
  return {
    path: abs,
    name: '/' + below.join('/'),
    hierarchy,
    id: st.ino,
    level: rootDepth + below.length,
  };
}

function insideMount(p: string, h: Hierarchy): boolean {
  return p === h.mountPoint || p.startsWith(h.mountPoint + '/');
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
