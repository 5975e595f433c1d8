/**
 * What actions may look at on the host (read-only): topology, cgroup
 * directories, threads, block devices. The real host reads /sys and /proc;
 * the simulated one (replay, tests) answers from records and defaults, so a
 * replay reads nothing from the machine it runs on.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CgroupLayout } from '../cgroup/layout.js';
import { parseCpuList } from '../topology/cpulist.js';
import { readTopology, type Topology } from '../topology/topology.js';
import { parseNumaMaps, pidsOfCgroupTree } from '../signals/numa/procfs.js';
import { cgroupOfPid, threadsOf, type ThreadInfo } from './procfs.js';

export interface CgroupDir {
  /** Name relative to the hierarchy root ("/a/b"). */
  name: string;
  /** Absolute directory. */
  path: string;
  /** Mount point of its hierarchy (the root cgroup's directory). */
  mount: string;
  version: 1 | 2;
}

export interface HostView {
  readonly simulated: boolean;
  topology(): Topology;
  /** The cgroup `name` in the hierarchy holding `controller`; undefined when there is none or the name escapes it. */
  cgroup(controller: 'cpu' | 'cpuset', name: string): CgroupDir | undefined;
  exists(p: string): boolean;
  threads(pid: number): ThreadInfo[];
  /** A process's cgroup in the cpu controller's hierarchy. */
  cgroupOf(pid: number): string | undefined;
  /** sysfs directory of a whole block device (/sys/block/DEV). */
  blockDevice(dev: string): string | undefined;
  /** CPUs a process's cpuset allows (undefined: unknown, take the online CPUs). */
  cpusetOf(pid: number): number[] | undefined;
  /** Effective CPUs of a cgroup's parent in the cpuset hierarchy (what widening may add). */
  parentCpus(dir: CgroupDir): number[] | undefined;
  /** Resident pages of a process per NUMA node (undefined: unknown). */
  numaPages(pid: number): Map<number, number> | undefined;
  /** Processes of a cgroup directory and its descendants. */
  pidsIn(dir: CgroupDir): number[];
}

/** "/a/b" for a name that stays inside its hierarchy, else undefined ("..", NUL, relative). */
export function normalizeCgroupName(name: string): string | undefined {
  if (typeof name !== 'string' || !name.startsWith('/') || name.includes('\0')) return undefined;
  if (name.split('/').includes('..')) return undefined;
  const n = path.posix.normalize(name).replace(/\/+$/, '');
  return n === '' ? '/' : n;
}

export function cgroupIn(layout: CgroupLayout, controller: 'cpu' | 'cpuset', name: string): CgroupDir | undefined {
  const n = normalizeCgroupName(name);
  const h = layout.byController[controller] ?? (layout.mode === 'v2' ? layout.unified : undefined);
  if (!n || !h) return undefined;
  const p = n === '/' ? h.mountPoint : path.join(h.mountPoint, n);
  if (p !== h.mountPoint && !p.startsWith(h.mountPoint + '/')) return undefined;
  return { name: n, path: p, mount: h.mountPoint, version: h.version };
}

const DEV_RE = /^[A-Za-z0-9._-]+$/;

export class RealHost implements HostView {
  readonly simulated = false;
  private topo: Topology | undefined;

  constructor(
    private readonly layout: CgroupLayout,
    private readonly sysRoot = '/sys',
    private readonly procRoot = '/proc',
  ) {}

  topology(): Topology {
    this.topo ??= readTopology(this.sysRoot);
    return this.topo;
  }

  cgroup(controller: 'cpu' | 'cpuset', name: string): CgroupDir | undefined {
    return cgroupIn(this.layout, controller, name);
  }

  exists(p: string): boolean {
    return existsSync(p);
  }

  threads(pid: number): ThreadInfo[] {
    return threadsOf(pid, this.procRoot);
  }

  cgroupOf(pid: number): string | undefined {
    return cgroupOfPid(pid, this.layout.mode === 'v2' ? undefined : 'cpu', this.procRoot);
  }

  blockDevice(dev: string): string | undefined {
    if (!DEV_RE.test(dev) || dev === '.' || dev === '..') return undefined;
    const dir = path.join(this.sysRoot, 'block', dev);
    return existsSync(path.join(dir, 'queue')) ? dir : undefined;
  }

  cpusetOf(pid: number): number[] | undefined {
    const name = cgroupOfPid(pid, this.layout.byController.cpuset ? 'cpuset' : undefined, this.procRoot);
    const dir = name === undefined ? undefined : this.cgroup('cpuset', name);
    return dir ? effectiveCpus(dir) : undefined;
  }

  numaPages(pid: number): Map<number, number> | undefined {
    try {
      return parseNumaMaps(readFileSync(path.join(this.procRoot, String(pid), 'numa_maps'), 'utf8'));
    } catch {
      return undefined;
    }
  }

  pidsIn(dir: CgroupDir): number[] {
    return pidsOfCgroupTree(dir.path);
  }

  parentCpus(dir: CgroupDir): number[] | undefined {
    if (dir.path === dir.mount) return undefined;
    return effectiveCpus({ ...dir, path: path.dirname(dir.path), name: path.posix.dirname(dir.name) });
  }
}

/** A host made of defaults: cgroup v2 at /sys/fs/cgroup, `cpus` CPUs without SMT, one node, single-threaded processes. */
export class SimHost implements HostView {
  readonly simulated = true;
  private cgroupByPid = new Map<number, string>();

  constructor(private topo: Topology) {}

  static withCpus(n: number): SimHost {
    const online = Array.from({ length: Math.max(1, n) }, (_, i) => i);
    return new SimHost({ online, cores: online.map((c) => [c]), nodes: [{ node: 0, cpus: online }] });
  }

  setTopology(t: Topology): void {
    this.topo = t;
  }

  /** Learn process -> cgroup from records (sched procs[].cgroup). */
  learnCgroup(pid: number, cgroup: string): void {
    this.cgroupByPid.set(pid, cgroup);
  }

  topology(): Topology {
    return this.topo;
  }

  cgroup(_controller: 'cpu' | 'cpuset', name: string): CgroupDir | undefined {
    const n = normalizeCgroupName(name);
    if (!n) return undefined;
    return { name: n, path: n === '/' ? '/sys/fs/cgroup' : `/sys/fs/cgroup${n}`, mount: '/sys/fs/cgroup', version: 2 };
  }

  exists(): boolean {
    return true;
  }

  threads(pid: number): ThreadInfo[] {
    return [{ tid: pid, start: 0, state: 'R', lastCpu: undefined }];
  }

  cgroupOf(pid: number): string | undefined {
    return this.cgroupByPid.get(pid);
  }

  blockDevice(dev: string): string | undefined {
    return DEV_RE.test(dev) && dev !== '.' && dev !== '..' ? `/sys/block/${dev}` : undefined;
  }

  cpusetOf(): number[] | undefined {
    return undefined;
  }

  private pages = new Map<number, Map<number, number>>();

  /** Learn a process's page placement from records (numa procs[].pages). */
  learnPages(pid: number, pages: Map<number, number>): void {
    this.pages.set(pid, pages);
  }

  numaPages(pid: number): Map<number, number> | undefined {
    return this.pages.get(pid);
  }

  pidsIn(dir: CgroupDir): number[] {
    return [...this.cgroupByPid].filter(([, cg]) => cg === dir.name || cg.startsWith(dir.name + '/')).map(([pid]) => pid);
  }

  parentCpus(): number[] | undefined {
    return this.topo.online;
  }
}

/** A cpuset cgroup's effective CPUs (v1 cpuset.effective_cpus, v2 cpuset.cpus.effective). */
export function effectiveCpus(dir: CgroupDir): number[] | undefined {
  for (const f of dir.version === 1 ? ['cpuset.effective_cpus', 'cpuset.cpus'] : ['cpuset.cpus.effective']) {
    try {
      const cpus = parseCpuList(readFileSync(path.join(dir.path, f), 'utf8'));
      if (cpus.length > 0) return cpus;
    } catch {
      /* try the next */
    }
  }
  return undefined;
}
