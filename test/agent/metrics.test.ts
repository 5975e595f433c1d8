import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { AgentMetrics } from '../../src/metrics/agent-metrics.js';
import { LOG2_BOUNDS_SECONDS } from '../../src/metrics/log2-histogram.js';
import { emptyProc, buildSchedRecord, type SchedDelta } from '../../src/signals/sched/record.js';

function delta(cgroups: Array<[string, number]>, hist: number[]): SchedDelta {
  return {
    intervalNs: 1e9,
    procs: [emptyProc(1, 'a', { histWakeup: hist, histPreempt: [], runDelayNs: 3000, waitNs: 3000, nvcsw: 2, nivcsw: 1 })],
    cgroups: cgroups.map(([id, wait]) => ({
      cgroupId: id,
      oncpuNs: 1e6,
      runDelayNs: wait,
      nvcsw: 1,
      nivcsw: 1,
      waits: 1,
      waitNs: wait,
      histWakeup: [],
      histPreempt: [],
    })),
    cpus: [{ cpu: 0, switches: 3, waitNs: 5e8 }],
  };
}

function metrics(top: number, exists: (c: string) => boolean = () => true) {
  return new AgentMetrics({ cgroups: { paths: [], top, idleAfterMs: 60_000 }, cgroupExists: exists, helperPids: () => [], version: 't' });
}

const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('agent metrics', () => {
  it('turns log2 slots into cumulative buckets in seconds', async () => {
    const m = metrics(5);
    const d = delta([['/a', 10]], Object.assign(new Array(12).fill(0), { 3: 2, 10: 1, 11: 4 }));
    m.sched(buildSchedRecord(d, { backend: 'bpf', now: new Date(), top: 10, cgroupName: (id) => id }), d, 0);
    const text = (await m.exposition()).body;
    // Slots 3 and 10 fall in the first bucket [0, 2^10 ns) ... no: slot 10 is [2^10, 2^11): second bucket.
    expect(value(text, `tuner_runqueue_wait_seconds_bucket{le="${LOG2_BOUNDS_SECONDS[0]}"}`)).toBe(2);
    expect(value(text, `tuner_runqueue_wait_seconds_bucket{le="${LOG2_BOUNDS_SECONDS[1]}"}`)).toBe(3);
    expect(value(text, `tuner_runqueue_wait_seconds_bucket{le="${LOG2_BOUNDS_SECONDS[2]}"}`)).toBe(7);
    expect(value(text, 'tuner_runqueue_wait_seconds_bucket{le="+Inf"}')).toBe(7);
    expect(value(text, 'tuner_runqueue_wait_seconds_count')).toBe(7);
    expect(value(text, 'tuner_runqueue_wait_seconds_sum')).toBeCloseTo(3e-6, 12);
    expect(value(text, 'tuner_context_switches_total{kind="involuntary"}')).toBe(1);
  });

  it('bounds per-cgroup series, counts the dropped ones and removes a deleted cgroup', async () => {
    const gone = new Set<string>();
    const m = metrics(2, (c) => !gone.has(c));
    const d = delta(
      [
        ['/a', 30],
        ['/b', 20],
        ['/c', 10],
      ],
      [],
    );
    const rec = () => buildSchedRecord(d, { backend: 'bpf', now: new Date(), top: 10, cgroupName: (id) => id });
    m.sched(rec(), d, 0);
    let text = (await m.exposition()).body;
    expect(text).toContain('tuner_cgroup_run_delay_seconds_total{cgroup="/a"}');
    expect(text).toContain('tuner_cgroup_run_delay_seconds_total{cgroup="/b"}');
    expect(text).not.toContain('cgroup="/c"');
    expect(value(text, 'tuner_cgroup_series_dropped_total')).toBe(1);
    gone.add('/a');
    d.cgroups = d.cgroups.filter((c) => c.cgroupId !== '/a');
    m.sched(rec(), d, 1000);
    text = (await m.exposition()).body;
    expect(text).not.toContain('cgroup="/a"');
    expect(text).toContain('cgroup="/c"');
    expect(text).not.toMatch(/\bpid="/);
  });

  it('counts decisions and holds knob values as gauges until reverted', async () => {
    const m = metrics(1);
    const base = {
      ts: '',
      recipe: 'r',
      detector: 'd',
      evidence: {},
      action: 'cpu_weight',
      target: '/x',
      knob: '/x/cpu.shares',
      old: '1024',
      reason: '',
    } as const;
    m.event({ type: 'decision', ...base, new: '512', applied: true, reverted: false, kind: 'step' });
    let text = (await m.exposition()).body;
    expect(value(text, 'tuner_actions_applied_total{recipe="r",action="cpu_weight"}')).toBe(1);
    expect(value(text, 'tuner_knob_value{recipe="r",knob="/x/cpu.shares"}')).toBe(512);
    m.event({ type: 'decision', ...base, new: '1024', applied: true, reverted: true, kind: 'revert' });
    m.event({ type: 'decision', ...base, new: '256', applied: false, reverted: false, kind: 'step' });
    text = (await m.exposition()).body;
    expect(value(text, 'tuner_actions_reverted_total{recipe="r",action="cpu_weight"}')).toBe(1);
    expect(value(text, 'tuner_actions_audited_total{recipe="r",action="cpu_weight"}')).toBe(1);
    expect(text).not.toContain('tuner_knob_value{');
  });

  it('passes promtool check metrics', async () => {
    const which = await execa('sh', ['-c', 'command -v promtool'], { reject: false });
    if (which.exitCode !== 0) throw new Error('promtool is missing: scripts/setup.sh installs the prometheus package');
    const m = metrics(5);
    const d = delta([['/a', 10]], [0, 1, 2, 3]);
    m.sched(buildSchedRecord(d, { backend: 'bpf', now: new Date(), top: 10, cgroupName: (id) => id }), d, 0);
    const r = await execa('promtool', ['check', 'metrics'], { input: (await m.exposition()).body, reject: false });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });
});
