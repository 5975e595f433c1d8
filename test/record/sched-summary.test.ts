import { describe, expect, it } from 'vitest';
import { SchedTotals } from '../../src/signals/sched/summary.js';
import { emptyProc, type SchedDelta, type SchedProcDelta } from '../../src/signals/sched/record.js';

function proc(pid: number, o: Partial<SchedProcDelta>): SchedProcDelta {
  return emptyProc(pid, 'w', { cgroupId: '1', threads: 1, ...o });
}
const delta = (procs: SchedProcDelta[]): SchedDelta => ({ intervalNs: 1e9, procs, cgroups: [], cpus: [] });

describe('SchedTotals', () => {
  it('sums exact totals over reads and processes', () => {
    const t = new SchedTotals();
    t.add(delta([proc(10, { oncpuNs: 100, runDelayNs: 7, nvcsw: 2, nivcsw: 1 }), proc(11, { oncpuNs: 50, runDelayNs: 3, nvcsw: 1 })]));
    t.add(delta([proc(10, { oncpuNs: 25, runDelayNs: 5, nivcsw: 4, exited: true })]));
    const s = t.summary();
    expect(s.metrics.cpu_ns).toBe(175);
    expect(s.metrics['sched.runq_wait_ns']).toBe(15);
    expect(s.metrics['sched.switches']).toBe(8);
    expect(s.details['sched.voluntary']).toBe(3);
    expect(s.details['sched.involuntary']).toBe(5);
    expect(s.details['sched.processes']).toBe(2);
    expect(t.running()).toEqual([{ pid: 11, comm: 'w' }]);
  });

  it('takes percentiles of the merged histogram, not of per-read percentiles', () => {
    const t = new SchedTotals();
    // Read 1: 99 waits in slot 10 ([1024, 2048) ns). Read 2: one wait in slot 20 (~1 ms).
    const h1 = new Array<number>(40).fill(0); // dense, as the BPF maps deliver them
    h1[10] = 99;
    const h2 = new Array<number>(40).fill(0);
    h2[20] = 1;
    t.add(delta([proc(1, { histWakeup: h1, maxWaitNs: 2000 })]));
    t.add(delta([proc(1, { histPreempt: h2, maxWaitNs: 1_500_000 })]));
    const s = t.summary();
    // Of 100 waits, the median and the 99th are in slot 10: about 1-2 µs. A mean of the
    // two reads' p99s (2 µs and 1.5 ms) would be 750 µs.
    expect(s.metrics['sched.runq_p50_us']).toBeGreaterThanOrEqual(1);
    expect(s.metrics['sched.runq_p50_us']).toBeLessThanOrEqual(2.1);
    expect(s.metrics['sched.runq_p99_us']).toBeLessThanOrEqual(2.1);
    expect(s.details['sched.runq_waits']).toBe(100);
    expect(s.details['sched.runq_max_us']).toBe(1500);
    expect(s.details['sched.runq_preempt_p99_us']).toBe(1500); // slot 20 clamped to the exact maximum
  });

  it('reports null percentiles when nothing waited', () => {
    const s = new SchedTotals().summary();
    expect(s.metrics['sched.runq_p99_us']).toBeNull();
    expect(s.metrics.cpu_ns).toBe(0);
  });
});
