/**
 * Which cgroups get series of their own: the configured paths, plus at most
 * N more, taken by run-queue wait (the busiest cgroup not yet exported takes
 * a free slot). A slot is freed when its cgroup is deleted or has been idle
 * for a while; a cgroup with no slot is counted as dropped, never exported.
 * This bounds the series however many short-lived cgroups a node creates.
 */
export interface CgroupActivity {
  cgroup: string;
  /** Run-queue wait in the interval (ranking). */
  waitNs: number;
}

export interface CgroupSetChange {
  /** Cgroups whose series must go (deleted, or idle past the limit). */
  removed: string[];
  /** Active cgroups this interval that got no series. */
  dropped: number;
}

export class CgroupSeriesSet {
  private readonly configured: Set<string>;
  /** Exported cgroup -> when it was last active (ms). */
  private readonly members = new Map<string, number>();

  constructor(private readonly o: { paths: readonly string[]; top: number; idleAfterMs: number; exists: (cgroup: string) => boolean }) {
    this.configured = new Set(o.paths);
  }

  has(cgroup: string): boolean {
    return this.members.has(cgroup);
  }

  get size(): number {
    return this.members.size;
  }

  private topCount(): number {
    let n = 0;
    for (const c of this.members.keys()) if (!this.configured.has(c)) n++;
    return n;
  }

  update(active: readonly CgroupActivity[], nowMs: number): CgroupSetChange {
    const removed: string[] = [];
    const now = new Set(active.map((a) => a.cgroup));
    for (const [c, last] of this.members) {
      const idle = !this.configured.has(c) && !now.has(c) && nowMs - last > this.o.idleAfterMs;
      if (idle || !this.o.exists(c)) {
        this.members.delete(c);
        removed.push(c);
      }
    }
    let dropped = 0;
    let free = this.o.top - this.topCount();
    const ranked = [...active].sort((a, b) => b.waitNs - a.waitNs || (a.cgroup < b.cgroup ? -1 : 1));
    for (const a of ranked) {
      if (this.members.has(a.cgroup)) this.members.set(a.cgroup, nowMs);
      else if (this.configured.has(a.cgroup)) this.members.set(a.cgroup, nowMs);
      else if (free > 0) {
        this.members.set(a.cgroup, nowMs);
        free--;
      } else dropped++;
    }
    return { removed, dropped };
  }
}
