/**
 * The scope as a guard on writes. Every planned change names where it lands
 * (a cgroup, a process, a device, a hook); the engine asks `refuse()` before
 * writing. Cgroup names are normalized and must stay inside their hierarchy
 * (no `..`), the root cgroup is never changed, and nothing outside the
 * scope's subtree or PID set is touched. The scope's own cgroup may only be
 * changed by actions that limit the scope itself (cpu.max, its cpuset).
 */
import path from 'node:path';
import type { ScopeTarget } from '../actions/action.js';
import type { Entity } from '../detect/paths.js';
import { normalizeCgroupName, type HostView } from '../host/host.js';

export interface ScopeSpec {
  /** Cgroup name relative to the cpu hierarchy root ("/" or absent: the whole host). */
  cgroup?: string;
  pids?: number[];
}

/** True when `name` is `base` or below it. */
export function within(name: string, base: string): boolean {
  return base === '/' ? name.startsWith('/') : name === base || name.startsWith(base + '/');
}

export class ScopeGuard {
  readonly cgroup: string | undefined;
  readonly pids: readonly number[] | undefined;

  constructor(
    spec: ScopeSpec,
    private readonly host: HostView,
  ) {
    if (spec.pids) this.pids = [...spec.pids];
    else {
      const n = normalizeCgroupName(spec.cgroup ?? '/');
      if (n === undefined) throw new Error(`scope cgroup ${JSON.stringify(spec.cgroup)} is not a normalized cgroup name`);
      this.cgroup = n;
    }
  }

  describe(): string {
    if (this.pids) return `pid ${this.pids.join(',')}`;
    return this.cgroup === '/' ? 'the whole host' : `cgroup ${this.cgroup}`;
  }

  private cgroupRefusal(name: string, self: boolean): string | undefined {
    const n = normalizeCgroupName(name);
    if (n === undefined || n !== name) return `cgroup ${JSON.stringify(name)} is not a normalized path inside the hierarchy`;
    if (n === '/') return 'tuner never changes the root cgroup';
    if (this.pids) return `cgroup ${n} is outside the scope (${this.describe()})`;
    if (n === this.cgroup && !self) return `cgroup ${n} is the scope itself: this action only changes cgroups below it`;
    if (!within(n, this.cgroup!)) return `cgroup ${n} is outside the scope (${this.describe()})`;
    return undefined;
  }

  /** Why a change may not land there; undefined when it may. */
  refuse(t: ScopeTarget): string | undefined {
    switch (t.kind) {
      case 'cgroup': {
        const why = this.cgroupRefusal(t.name, t.self ?? false);
        if (why) return why;
        const expected = path.join(t.mount, t.name);
        if (path.resolve(t.path) !== expected || !expected.startsWith(t.mount + '/'))
          return `${t.path} is not the directory of cgroup ${t.name} under ${t.mount}`;
        return undefined;
      }
      case 'pid':
        return this.pidRefusal(t.pid);
      case 'device':
        return /^[A-Za-z0-9._-]+$/.test(t.dev) && t.dev !== '.' && t.dev !== '..'
          ? undefined
          : `${JSON.stringify(t.dev)} is not a block device name`;
      case 'hook':
        return undefined;
    }
  }

  private pidRefusal(pid: number): string | undefined {
    if (!Number.isInteger(pid) || pid <= 1) return `pid ${pid} is never changed`;
    if (pid === process.pid) return 'tuner does not change itself';
    if (this.pids) return this.pids.includes(pid) ? undefined : `pid ${pid} is outside the scope (${this.describe()})`;
    const cg = this.host.cgroupOf(pid);
    if (cg === undefined) return `the cgroup of pid ${pid} is unknown`;
    return within(cg, this.cgroup!) ? undefined : `pid ${pid} (in ${cg}) is outside the scope (${this.describe()})`;
  }

  /** May an entity a detector reports be an action's target? (Scope-wide values always may.) */
  allows(e: Entity): boolean {
    switch (e.kind) {
      case 'cgroup':
      case 'unified':
        return this.cgroupRefusal(e.key, false) === undefined || (e.key === this.cgroup && this.cgroup !== '/');
      case 'pid':
        return this.pidRefusal(Number(e.key)) === undefined;
      default:
        return true;
    }
  }
}
