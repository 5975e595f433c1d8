/**
 * Cgroup ids (kernfs inode numbers, as BPF reports them) back to paths, by
 * walking a hierarchy. The walk is cached and redone at most once per
 * `refreshMs` when an unknown id shows up.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Hierarchy } from './layout.js';

export class CgroupNames {
  private byId = new Map<string, string>();
  private lastWalk = 0;

  constructor(
    private readonly hierarchy: Hierarchy | undefined,
    private readonly refreshMs = 1000,
  ) {}

  /** Path of the cgroup relative to the hierarchy root ("/" for the root), or `id:<n>` when unknown. */
  name(id: bigint | number | string): string {
    const key = String(id);
    let hit = this.byId.get(key);
    if (hit === undefined && this.hierarchy && Date.now() - this.lastWalk >= this.refreshMs) {
      this.walk();
      hit = this.byId.get(key);
    }
    return hit ?? `id:${key}`;
  }

  private walk(): void {
    this.lastWalk = Date.now();
    const root = this.hierarchy!.mountPoint;
    const map = new Map<string, string>();
    const stack = [root];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      let ino: bigint;
      try {
        ino = statSync(dir, { bigint: true }).ino;
      } catch {
        continue;
      }
      const rel = path.relative(root, dir);
      map.set(String(ino), '/' + rel);
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) if (e.isDirectory()) stack.push(path.join(dir, e.name));
    }
    this.byId = map;
  }
}
