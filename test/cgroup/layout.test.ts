/** Cgroup layouts from recorded mountinfo, and --cgroup resolution on a fake tree. */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectLayout } from '../../src/cgroup/layout.js';
import { resolveCgroup } from '../../src/cgroup/resolve.js';
import { parseMountInfo } from '../../src/procfs/mounts.js';
import { UsageError } from '../../src/errors.js';

const HYBRID = `
30 23 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw
33 30 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
34 30 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 30 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
36 30 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 30 0:33 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
`;
const V2 = `
29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;
const NAMESPACED = `
29 23 0:26 /kubepods/pod1 /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw
`;

describe('detectLayout', () => {
  it('hybrid: controllers on v1, unified tree with none', () => {
    const l = detectLayout(parseMountInfo(HYBRID), () => 'hugetlb\n');
    expect(l.mode).toBe('hybrid');
    expect(l.cpu?.mountPoint).toBe('/sys/fs/cgroup/cpu');
    expect(l.cpu?.version).toBe(1);
    expect(l.byController.cpuset?.mountPoint).toBe('/sys/fs/cgroup/cpuset');
    expect(l.unified?.mountPoint).toBe('/sys/fs/cgroup/unified');
    expect(l.byController.systemd).toBeUndefined();
  });

  it('pure v2: every controller on the unified tree', () => {
    const l = detectLayout(parseMountInfo(V2), () => 'cpuset cpu io memory pids\n');
    expect(l.mode).toBe('v2');
    expect(l.cpu?.mountPoint).toBe('/sys/fs/cgroup');
    expect(l.byController.memory?.version).toBe(2);
  });

  it('v2 with the cpu controller not listed still scopes by the unified tree', () => {
    const l = detectLayout(parseMountInfo(V2), () => 'memory pids\n');
    expect(l.cpu?.mountPoint).toBe('/sys/fs/cgroup');
  });

  it('no cgroup mounts', () => {
    expect(detectLayout([], () => '').mode).toBe('none');
  });
});

describe('resolveCgroup on a fake tree', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tuner-fake-cg-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'cpu/batch/jobs'), { recursive: true });
  mkdirSync(path.join(root, 'unified/web.slice'), { recursive: true });
  const text = `1 0 0:1 / ${root}/cpu rw - cgroup cgroup rw,cpu\n2 0 0:2 / ${root}/unified rw - cgroup2 cgroup2 rw\n`;
  const layout = detectLayout(parseMountInfo(text), () => '');

  it('absolute path in the cpu hierarchy', () => {
    const r = resolveCgroup(`${root}/cpu/batch/jobs`, layout);
    expect(r.name).toBe('/batch/jobs');
    expect(r.level).toBe(2);
    expect(r.hierarchy.version).toBe(1);
    expect(r.id).toBe(statSync(`${root}/cpu/batch/jobs`, { bigint: true }).ino);
  });

  it('relative path: the cpu hierarchy first, then the unified one', () => {
    expect(resolveCgroup('batch', layout).path).toBe(`${root}/cpu/batch`);
    const web = resolveCgroup('web.slice', layout);
    expect(web.path).toBe(`${root}/unified/web.slice`);
    expect(web.hierarchy.version).toBe(2);
    expect(resolveCgroup('.', layout).level).toBe(0);
    expect(() => resolveCgroup('/batch', layout)).toThrow(/did you mean batch \(relative to/);
  });

  it.each([
    ['nope', /no such cgroup/],
    ['../../etc', /escapes the cgroup root/],
    ['/etc', /not inside a cgroup filesystem/],
    ['', /expected a cgroup path/],
  ])('refuses %j with a UsageError', (arg, msg) => {
    expect(() => resolveCgroup(arg, layout)).toThrow(UsageError);
    expect(() => resolveCgroup(arg, layout)).toThrow(msg);
  });

  it('counts the depth of a namespaced mount root', () => {
    const l = detectLayout(parseMountInfo(NAMESPACED.replace('/sys/fs/cgroup', `${root}/unified`)), () => '');
    expect(resolveCgroup(`${root}/unified/web.slice`, l).level).toBe(3);
  });
});
