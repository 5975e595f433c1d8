/** A recipe in the agent is judged on its scope: per-cgroup and per-process lists cut to it, shares of the scope. */
import { describe, expect, it } from 'vitest';
import { recordsInScope } from '../../src/agent/scope-records.js';
import { samplesOf } from '../../src/detect/samples.js';

const records = {
  sched: {
    interval_ms: 1000,
    cpus: [{ cpu: 0 }, { cpu: 1 }],
    cgroups: [
      { cgroup: '/t/hog', oncpu_ns: 600e6 },
      { cgroup: '/t/victim', oncpu_ns: 200e6 },
      { cgroup: '/tx', oncpu_ns: 100e6 },
      { cgroup: '/system.slice/other', oncpu_ns: 1200e6 },
    ],
    procs: [
      { pid: 10, cgroup: '/t/hog', runq_wait_ns: 1, oncpu_ns: 1 },
      { pid: 11, cgroup: '/system.slice/other', runq_wait_ns: 1, oncpu_ns: 1 },
    ],
  },
  psi: { cgroups: [{ cgroup: '/t' }, { cgroup: '/u' }] },
};

describe('recordsInScope', () => {
  it('a cgroup scope keeps its subtree only (not a sibling with the same prefix), so cpu_share is of the scope', () => {
    const host = samplesOf('sched.cgroups.cpu_share', records).find((s) => s.entity.key === '/t/hog')!.value;
    const inScope = recordsInScope(records, { cgroup: '/t' });
    expect((inScope.sched!.cgroups as unknown[]).length).toBe(2);
    expect((inScope.sched!.procs as Array<{ pid: number }>).map((p) => p.pid)).toEqual([10]);
    expect((inScope.psi!.cgroups as Array<{ cgroup: string }>).map((c) => c.cgroup)).toEqual(['/t']);
    const scoped = samplesOf('sched.cgroups.cpu_share', inScope).find((s) => s.entity.key === '/t/hog')!.value;
    expect(host).toBeCloseTo(0.2857, 3);
    expect(scoped).toBe(0.75);
  });

  it('a PID scope keeps those processes; no scope leaves the records as they are', () => {
    const inScope = recordsInScope(records, { pids: [11] });
    expect((inScope.sched!.procs as Array<{ pid: number }>).map((p) => p.pid)).toEqual([11]);
    expect(inScope.sched!.cgroups).toBe(records.sched.cgroups);
    expect(recordsInScope(records, {})).toBe(records);
    expect(recordsInScope(records, { cgroup: '/' }).sched!.cgroups).toEqual(records.sched.cgroups);
  });
});
