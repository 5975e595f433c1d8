import { describe, expect, it } from 'vitest';
import { SimHost } from '../../src/host/host.js';
import { ScopeGuard, within } from '../../src/scope/guard.js';

const host = SimHost.withCpus(2);
host.learnCgroup(500, '/p/app');
host.learnCgroup(600, '/q');
const cg = (name: string, self?: boolean) => ({
  kind: 'cgroup' as const,
  name,
  path: `/sys/fs/cgroup${name === '/' ? '' : name}`,
  mount: '/sys/fs/cgroup',
  ...(self ? { self } : {}),
});

describe('scope guard', () => {
  const g = new ScopeGuard({ cgroup: '/p' }, host);

  it.each([
    [cg('/p/hog'), undefined],
    [cg('/p/a/b'), undefined],
    [cg('/p'), 'is the scope itself'],
    [cg('/p', true), undefined],
    [cg('/'), 'never changes the root cgroup'],
    [cg('/q'), 'outside the scope'],
    [cg('/pq'), 'outside the scope'],
    [cg('/p/../q'), 'not a normalized path'],
    [cg('/p/./hog'), 'not a normalized path'],
    [cg('id:42'), 'not a normalized path'],
    [{ ...cg('/p/hog'), path: '/sys/fs/cgroup/q' }, 'is not the directory of cgroup /p/hog'],
    [{ ...cg('/p/hog'), path: '/sys/fs/cgroup/p/hog/../../q' }, 'is not the directory'],
    [{ kind: 'pid' as const, pid: 500 }, undefined],
    [{ kind: 'pid' as const, pid: 600 }, 'outside the scope'],
    [{ kind: 'pid' as const, pid: 700 }, 'is unknown'],
    [{ kind: 'pid' as const, pid: 1 }, 'never changed'],
    [{ kind: 'pid' as const, pid: process.pid }, 'does not change itself'],
    [{ kind: 'device' as const, dev: 'loop0' }, undefined],
    [{ kind: 'device' as const, dev: '../sda' }, 'not a block device name'],
    [{ kind: 'hook' as const }, undefined],
  ])('cgroup scope /p: %j -> %s', (t, why) => {
    const r = g.refuse(t);
    if (why === undefined) expect(r).toBeUndefined();
    else expect(r).toContain(why);
  });

  it('a PID scope allows exactly its processes and no cgroup', () => {
    const p = new ScopeGuard({ pids: [500] }, host);
    expect(p.refuse({ kind: 'pid', pid: 500 })).toBeUndefined();
    expect(p.refuse({ kind: 'pid', pid: 600 })).toContain('outside the scope (pid 500)');
    expect(p.refuse(cg('/p/app'))).toContain('outside the scope');
    expect(p.allows({ kind: 'pid', key: '500' })).toBe(true);
    expect(p.allows({ kind: 'pid', key: '600' })).toBe(false);
  });

  it('the whole host: anything but the root cgroup; entities filtered the same way', () => {
    const h = new ScopeGuard({}, host);
    expect(h.refuse(cg('/anything'))).toBeUndefined();
    expect(h.refuse(cg('/'))).toContain('root cgroup');
    expect(g.allows({ kind: 'cgroup', key: '/p/x' })).toBe(true);
    expect(g.allows({ kind: 'cgroup', key: '/' })).toBe(false);
    expect(g.allows({ kind: 'cgroup', key: '/p/../etc' })).toBe(false);
    expect(g.allows({ kind: 'cpu', key: '1' })).toBe(true);
    expect(within('/p/x', '/p')).toBe(true);
    expect(within('/px', '/p')).toBe(false);
    expect(() => new ScopeGuard({ cgroup: '/p/../..' }, host)).toThrow(/not a normalized cgroup name/);
  });
});
