import { describe, expect, it } from 'vitest';
import { summariseGeneric, summariseRecord } from '../../src/record/record-summary.js';

describe('summariseRecord', () => {
  it('psi: system stall time of each resource, full and cgroup figures as details', async () => {
    const s = await summariseRecord({
      signal: 'psi',
      ts: 'x',
      interval_ms: 1000,
      cpu: { some_avg10: 1, some_avg60: 1, some_total_us: 1200, some_pct: 0.12, full_total_us: 300 },
      memory: { some_avg10: 0, some_avg60: 0, some_total_us: 0, some_pct: 0 },
      io: null,
      cgroups: [{ cgroup: '/user.slice', cpu: { some_total_us: 800 }, memory: null, io: null }],
    });
    expect(s.metrics).toEqual({ 'psi.cpu_some_us': 1200, 'psi.memory_some_us': 0, 'psi.io_some_us': null });
    expect(s.details['psi.cpu_full_us']).toBe(300);
    expect(s.details['psi.cgroup']).toBe('/user.slice');
    expect(s.details['psi.cgroup.cpu_some_us']).toBe(800);
  });

  it('an unknown signal contributes its numbers, named after it', () => {
    expect(
      summariseGeneric({ signal: 'numa', ts: 'x', interval_ms: 5, migrations: 3, faults: { local: 9, remote: 1 }, nodes: [1, 2] }).metrics,
    ).toEqual({
      'numa.migrations': 3,
      'numa.faults.local': 9,
      'numa.faults.remote': 1,
    });
  });
});
