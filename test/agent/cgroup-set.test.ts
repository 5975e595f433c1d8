import { describe, expect, it } from 'vitest';
import { CgroupSeriesSet } from '../../src/metrics/cgroup-set.js';

const act = (...xs: Array<[string, number]>) => xs.map(([cgroup, waitNs]) => ({ cgroup, waitNs }));

describe('CgroupSeriesSet', () => {
  it('admits the busiest cgroups up to the limit and counts the rest as dropped', () => {
    const s = new CgroupSeriesSet({ paths: [], top: 2, idleAfterMs: 60_000, exists: () => true });
    const c = s.update(act(['/a', 10], ['/b', 30], ['/c', 20]), 0);
    expect(c).toEqual({ removed: [], dropped: 1 });
    expect([s.has('/a'), s.has('/b'), s.has('/c')]).toEqual([false, true, true]);
    // Membership holds: /a stays out while the slots are taken, even when it is the busiest now.
    expect(s.update(act(['/a', 100], ['/b', 1]), 1000)).toEqual({ removed: [], dropped: 1 });
    expect(s.has('/a')).toBe(false);
  });

  it('always exports configured paths, beside the top N', () => {
    const s = new CgroupSeriesSet({ paths: ['/keep'], top: 1, idleAfterMs: 60_000, exists: () => true });
    expect(s.update(act(['/x', 5], ['/keep', 1], ['/y', 3]), 0).dropped).toBe(1);
    expect([s.has('/keep'), s.has('/x'), s.has('/y')]).toEqual([true, true, false]);
  });

  it('removes a deleted cgroup and gives its slot to the next', () => {
    const live = new Set(['/a', '/b']);
    const s = new CgroupSeriesSet({ paths: [], top: 1, idleAfterMs: 60_000, exists: (c) => live.has(c) });
    s.update(act(['/a', 5], ['/b', 1]), 0);
    live.delete('/a');
    expect(s.update(act(['/b', 1]), 1000)).toEqual({ removed: ['/a'], dropped: 0 });
    expect(s.has('/b')).toBe(true);
  });

  it('frees the slot of a cgroup idle past the limit, but not of one active now', () => {
    const s = new CgroupSeriesSet({ paths: ['/conf'], top: 1, idleAfterMs: 10_000, exists: () => true });
    s.update(act(['/a', 5], ['/conf', 1]), 0);
    expect(s.update(act(['/a', 5]), 20_000).removed).toEqual([]);
    expect(s.update([], 25_000).removed).toEqual([]);
    // Configured paths never go idle.
    expect(s.update([], 40_000).removed).toEqual(['/a']);
    expect(s.has('/conf')).toBe(true);
  });
});
