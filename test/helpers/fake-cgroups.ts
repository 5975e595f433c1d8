/** Fake cgroup trees (plain directories in a temp dir) with a matching CgroupLayout, v1 or v2. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CgroupLayout, Hierarchy } from '../../src/cgroup/layout.js';

export function fakeLayout(root: string, version: 1 | 2): CgroupLayout {
  if (version === 2) {
    const h: Hierarchy = { version: 2, mountPoint: path.join(root, 'unified'), root: '/', controllers: ['cpu', 'cpuset', 'io', 'memory'] };
    mkdirSync(h.mountPoint, { recursive: true });
    return { mode: 'v2', hierarchies: [h], unified: h, cpu: h, byController: { cpu: h, cpuset: h, io: h, memory: h } };
  }
  const cpu: Hierarchy = { version: 1, mountPoint: path.join(root, 'cpu'), root: '/', controllers: ['cpu', 'cpuacct'] };
  const cpuset: Hierarchy = { version: 1, mountPoint: path.join(root, 'cpuset'), root: '/', controllers: ['cpuset'] };
  for (const h of [cpu, cpuset]) mkdirSync(h.mountPoint, { recursive: true });
  return { mode: 'v1', hierarchies: [cpu, cpuset], cpu, byController: { cpu, cpuacct: cpu, cpuset } };
}

/** Write cgroup files: fakeFiles(mount, '/p/hog', { 'cpu.shares': '262144' }). */
export function fakeFiles(mount: string, name: string, files: Record<string, string>): string {
  const dir = path.join(mount, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, v] of Object.entries(files)) writeFileSync(path.join(dir, f), v + '\n');
  return dir;
}
