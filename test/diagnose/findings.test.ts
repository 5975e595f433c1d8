import { describe, expect, it } from 'vitest';
import { findings, RULES, type Finding, type Measurements } from '../../src/diagnose/findings.js';
import { parseThresholds } from '../../src/diagnose/thresholds.js';

const T = parseThresholds();
/** 4 threads of pid 42 in cgroup /app, measured for 2 s: nothing in it by default. */
const base: Measurements = { durationMs: 2000, target: { pid: 42, comm: 'app', threads: 4, cgroup: '/app' } };
const sched = (runqWaitNs: number, oncpuNs: number): Measurements['sched'] => ({
  oncpuNs,
  runqWaitNs,
  p99Us: 900,
  maxUs: 2000,
  switches: 10,
  involuntary: 5,
});

/** One row per finding kind: measurements that raise it (and its severity), and just below its threshold. */
const ROWS: Array<{
  kind: Finding['kind'];
  severity: Finding['severity'];
  fires: Partial<Measurements>;
  below: Partial<Measurements>;
  command?: string;
}> = [
  {
    kind: 'cpu-contention',
    severity: 'critical',
    fires: { sched: sched(4e9, 4e9) },
    below: { sched: sched(0.09e9, 0.91e9) },
    command: 'tuner run recipes/spread-hot-threads.yaml --pid 42',
  },
  {
    kind: 'noisy-neighbor',
    severity: 'critical',
    fires: {
      sched: sched(4e9, 4e9),
      hostCgroups: [
        { cgroup: '/app', oncpuNs: 1e9 },
        { cgroup: '/batch/hog', oncpuNs: 3e9, topTask: 'burn' },
      ],
    },
    below: {
      sched: sched(4e9, 4e9),
      hostCgroups: [
        { cgroup: '/app', oncpuNs: 2.1e9 },
        { cgroup: '/batch/hog', oncpuNs: 1.9e9 },
      ],
    },
    command: 'tuner run recipes/noisy-neighbor.yaml --cgroup /',
  },
  {
    kind: 'lock-contention',
    severity: 'warn',
    fires: { futex: { waits: 200, waitNs: 0.3 * 8e9, wakes: 200, p99Us: 500 } },
    // Enough wait, too few waits a second: an idle pool, not contention.
    below: { futex: { waits: 99, waitNs: 0.3 * 8e9, wakes: 99, p99Us: 500 } },
    command: 'tuner watch futex --pid 42',
  },
  {
    kind: 'io-wait',
    severity: 'critical',
    fires: { io: { ios: 1000, waitNs: 1.2e9, devices: [{ dev: 'sda', iops: 500, p99Us: 3000, readSeqPct: 95, avgReadKb: 128 }] } },
    below: { io: { ios: 1000, waitNs: 0.39e9, devices: [] } },
    command: 'tuner run recipes/readahead-sequential.yaml --pid 42',
  },
  {
    kind: 'cpu-throttling',
    severity: 'critical',
    fires: { throttle: { quotaCpus: 0.5, periods: 20, throttled: 20, throttledUs: 1e6, cgroup: '/app', dir: '/sys/fs/cgroup/app' } },
    below: { throttle: { quotaCpus: 0.5, periods: 20, throttled: 1, throttledUs: 0.09e6, cgroup: '/app', dir: '/sys/fs/cgroup/app' } },
    command: 'tuner watch sched --cgroup /app',
  },
  {
    kind: 'memory-pressure',
    severity: 'warn',
    fires: { psi: { scope: '/app', memory: 12 } },
    below: { psi: { scope: '/app', memory: 9.9 } },
    command: 'tuner watch psi --pid 42',
  },
  {
    kind: 'io-pressure',
    severity: 'critical',
    fires: { psi: { scope: '/app', io: 41 } },
    below: { psi: { scope: '/app', io: 9 } },
    command: 'tuner watch io --pid 42',
  },
];

describe('diagnose rules', () => {
  it('has a row here for every kind a rule can find', () => {
    expect(
      RULES.flatMap((r) => r.kinds)
        .filter((k) => k !== 'healthy')
        .sort(),
    ).toEqual(ROWS.map((r) => r.kind).sort());
  });

  it.each(ROWS)(
    '$kind: found at its threshold with its evidence and command, not below it',
    ({ kind, severity, fires, below, command }) => {
      const found = findings({ ...base, ...fires }, T).find((f) => f.kind === kind);
      expect(found).toMatchObject({ kind, severity });
      expect(found!.evidence.line.length).toBeGreaterThan(0);
      if (command) expect(found!.suggest.map((s) => s.command)).toContain(command);
      expect(findings({ ...base, ...below }, T).map((f) => f.kind)).not.toContain(kind);
    },
  );

  it('healthy only when nothing else is found, and most severe first otherwise', () => {
    expect(findings(base, T).map((f) => f.kind)).toEqual(['healthy']);
    const both = findings({ ...base, ...ROWS[5]!.fires, ...ROWS[6]!.fires, psi: { scope: '/app', memory: 12, io: 41 } }, T);
    expect(both.map((f) => f.kind)).toEqual(['io-pressure', 'memory-pressure']);
  });

  it('ranks findings of equal severity by the share of thread time each wait took, not by their own shares', () => {
    // 4 threads, 2 s: a run-queue wait of 60% of runnable time that is 3% of thread time, beside
    // a futex wait of 55% of thread time (a lock-bound program on a machine other work keeps busy).
    const m = { ...base, sched: sched(0.24e9, 0.16e9), futex: { waits: 5000, waitNs: 0.55 * 8e9, wakes: 5000, p99Us: 2000 } };
    const found = findings(m, T);
    expect(found.map((f) => [f.kind, f.severity])).toEqual([
      ['lock-contention', 'critical'],
      ['cpu-contention', 'critical'],
    ]);
    expect(found[0]!.evidence.thread_share).toBeCloseTo(0.55, 3);
    expect(found[1]!.evidence.thread_share).toBeCloseTo(0.03, 3);
  });

  it("puts I/O pressure after the target's own I/O wait, whatever their severities", () => {
    // One reader waiting on I/O 45% of a 2 s window (a warning), and the I/O pressure it makes (critical).
    const m = {
      ...base,
      target: { ...base.target, threads: 1 },
      io: { ios: 1000, waitNs: 0.9e9, devices: [] },
      psi: { scope: '/app', io: 47 },
    };
    const found = findings(m, T);
    expect(found.map((f) => [f.kind, f.severity])).toEqual([
      ['io-wait', 'warn'],
      ['io-pressure', 'critical'],
    ]);
    // Without the I/O wait, the pressure is the finding.
    expect(findings({ ...m, io: undefined }, T).map((f) => f.kind)).toEqual(['io-pressure']);
  });

  it('takes the throttled time the kernel adds up over CPUs as a share of the window, never above 1', () => {
    // 3.25 s throttled in a 3 s window: threads on 2 CPUs were throttled on both at once.
    const throttle = { quotaCpus: 0.5, periods: 30, throttled: 30, throttledUs: 3.25e6, cgroup: '/app', dir: '/sys/fs/cgroup/app' };
    const found = (throttledUs: number) =>
      findings({ ...base, durationMs: 3000, throttle: { ...throttle, throttledUs } }, T).find((f) => f.kind === 'cpu-throttling')!;
    expect(found(3.25e6).evidence.throttled_share).toBe(1);
    expect(found(3.25e6).summary).toContain('100% of the time');
    expect(found(1.5e6).evidence.throttled_share).toBe(0.5);
  });

  it('a threshold override moves the line', () => {
    const m = { ...base, psi: { scope: '/app', memory: 12 } };
    expect(findings(m, parseThresholds(['psi.memory.warn=15'])).map((f) => f.kind)).toEqual(['healthy']);
  });
});
