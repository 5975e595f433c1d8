/**
 * Which cgroup hierarchies the host has and where each controller lives:
 * pure v2 (one unified tree), pure v1, or hybrid (v1 trees hold the
 * controllers, a v2 tree mostly for PSI and process tracking).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readMounts, type Mount } from '../procfs/mounts.js';

export interface Hierarchy {
  version: 1 | 2;
  mountPoint: string;
  /** Path of the mount's root inside the hierarchy ("/" unless in a cgroup namespace). */
  root: string;
  controllers: string[];
}

export interface CgroupLayout {
  mode: 'v1' | 'v2' | 'hybrid' | 'none';
  hierarchies: Hierarchy[];
  /** The unified (v2) hierarchy, when mounted. */
  unified?: Hierarchy;
  /** The hierarchy of the cpu controller (v1 `cpu` tree, or the unified one), when any. */
  cpu?: Hierarchy;
  /** Where a controller lives, by name. */
  byController: Record<string, Hierarchy>;
}

const V1_NON_CONTROLLER_OPTIONS = new Set(['rw', 'ro', 'relatime', 'noexec', 'nosuid', 'nodev', 'xattr', 'clone_children']);

/** Detect the layout from mounts; `readText` reads cgroup.controllers of v2 trees (injectable for fake trees). */
export function detectLayout(
  mounts: Mount[] = readMounts(),
  readText: (file: string) => string = (f) => readFileSync(f, 'utf8'),
): CgroupLayout {
  const hierarchies: Hierarchy[] = [];
  for (const m of mounts) {
    if (m.fsType === 'cgroup2') {
      let controllers: string[] = [];
      try {
        controllers = readText(path.join(m.mountPoint, 'cgroup.controllers')).trim().split(/\s+/).filter(Boolean);
      } catch {
        /* an unreadable tree lists no controllers */
      }
      hierarchies.push({ version: 2, mountPoint: m.mountPoint, root: m.root, controllers });
    } else if (m.fsType === 'cgroup') {
      const controllers = m.superOptions.filter((o) => !V1_NON_CONTROLLER_OPTIONS.has(o) && !o.includes('='));
      hierarchies.push({ version: 1, mountPoint: m.mountPoint, root: m.root, controllers });
    }
  }
  // The same hierarchy may be mounted twice (bind mounts): keep the first of each.
  const unique = hierarchies.filter(
    (h, i) =>
      hierarchies.findIndex((o) => o.version === h.version && o.controllers.join() === h.controllers.join() && o.root === h.root) === i ||
      h.version === 2,
  );
  const byController: Record<string, Hierarchy> = {};
  for (const h of unique) for (const c of h.controllers) byController[c] ??= h;
  const unified = unique.find((h) => h.version === 2);
  const hasV1 = unique.some((h) => h.version === 1 && h.controllers.length > 0);
  const mode = unified && hasV1 ? 'hybrid' : unified ? 'v2' : hasV1 ? 'v1' : 'none';
  const layout: CgroupLayout = { mode, hierarchies: unique, byController };
  if (unified) layout.unified = unified;
  const cpu = byController.cpu ?? (mode === 'v2' ? unified : undefined);
  if (cpu) layout.cpu = cpu;
  return layout;
}
