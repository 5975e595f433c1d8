import { describe, expect, it } from 'vitest';
import { starvation, type Sample, type ThreadSample } from '../../src/diagnose/starved.js';
import { measure } from '../../src/commands/diagnose.js';
import { findings } from '../../src/diagnose/findings.js';
import { parseThresholds } from '../../src/diagnose/thresholds.js';
import type { CgroupLayout } from '../../src/cgroup/layout.js';
import type { PsiRecord } from '../../src/signals/psi/record.js';

const T = parseThresholds();
const th = (state: string, oncpuNs: number, slices: number): ThreadSample => ({ state, oncpuNs, slices });
/** Samples at the given times, each a row of [tid, state, on-CPU ns, timeslices]. */
const samples = (...rows: Array<[number, Array<[number, string, number, number]>]>): Sample[] =>
  rows.map(([atMs, ts]) => ({ atMs, threads: new Map(ts.map(([tid, s, on, n]) => [tid, th(s, on, n)])) }));

describe('starvation: threads queued without running until the window ends', () => {
  it.each([
    {
      name: 'runnable at every sample, never switched in: starved the whole window',
      s: samples([0, [[1, 'R', 5e6, 3]]], [500, [[1, 'R', 5e6, 3]]], [3000, [[1, 'R', 5e6, 3]]]),
      want: { sampled: 1, threads: 1, wholeWindow: 1, waitNs: 3000e6 },
    },
    {
      name: 'ran until the 1 s sample, queued since: the last 2 s',
      s: samples([0, [[1, 'R', 5e6, 3]]], [1000, [[1, 'R', 9e6, 4]]], [2000, [[1, 'R', 9e6, 4]]], [3000, [[1, 'R', 9e6, 4]]]),
      want: { sampled: 1, threads: 1, wholeWindow: 0, waitNs: 2000e6 },
    },
    {
      name: 'kept running (on-CPU time grew): not starved',
      s: samples([0, [[1, 'R', 5e6, 3]]], [3000, [[1, 'R', 3005e6, 3]]]),
      want: { sampled: 1, threads: 0, wholeWindow: 0, waitNs: 0 },
    },
    {
      name: 'switched in once with no measurable run time (timeslices grew): not starved',
      s: samples([0, [[1, 'R', 5e6, 3]]], [3000, [[1, 'R', 5e6, 4]]]),
      want: { sampled: 1, threads: 0, wholeWindow: 0, waitNs: 0 },
    },
    {
      name: 'sleeping the whole window: an idle thread, not a starved one',
      s: samples([0, [[1, 'S', 5e6, 3]]], [3000, [[1, 'S', 5e6, 3]]]),
      want: { sampled: 1, threads: 0, wholeWindow: 0, waitNs: 0 },
    },
    {
      name: 'asleep in between: the queued stretch starts after the last sample it was not runnable',
      s: samples([0, [[1, 'R', 5e6, 3]]], [1000, [[1, 'S', 5e6, 3]]], [3000, [[1, 'R', 5e6, 3]]]),
      want: { sampled: 1, threads: 0, wholeWindow: 0, waitNs: 0 },
    },
    {
      name: 'exited before the end, or born after the start: not counted',
      s: samples([0, [[1, 'R', 5e6, 3]]], [3000, [[2, 'R', 0, 0]]]),
      want: { sampled: 1, threads: 0, wholeWindow: 0, waitNs: 0 },
    },
    {
      name: 'samples span more than the window: each thread capped at the window',
      s: samples(
        [
          0,
          [
            [1, 'R', 5e6, 3],
            [2, 'R', 1e6, 1],
            [3, 'S', 0, 0],
          ],
        ],
        [
          3050,
          [
            [1, 'R', 5e6, 3],
            [2, 'R', 1e6, 1],
            [3, 'S', 0, 0],
          ],
        ],
      ),
      want: { sampled: 3, threads: 2, wholeWindow: 2, waitNs: 2 * 3000e6 },
    },
    {
      name: 'one sample: nothing to compare',
      s: samples([0, [[1, 'R', 5e6, 3]]]),
      want: { sampled: 1, threads: 0, wholeWindow: 0, waitNs: 0 },
    },
  ])('$name', ({ s, want }) => {
    expect(starvation(s, 3000)).toEqual(want);
  });
});

describe('a starved target in the findings', () => {
  const psi: PsiRecord = {
    signal: 'psi',
    ts: new Date(0).toISOString(),
    interval_ms: 3000,
    cpu: null,
    memory: null,
    io: null,
    cgroups: [],
  };
  const gathered = (runqWaitNs: number, starvedNs: number, threads = 2) =>
    measure({
      scope: { pids: [42], layout: { hierarchies: [] } as unknown as CgroupLayout },
      pid: 42,
      durationMs: 3000,
      procStart: {
        pid: 42,
        comm: 'victim',
        threads,
        cpuTicks: 0,
        oncpuNs: 0,
        runDelayNs: 0,
        cpusAllowed: '0',
        memsAllowed: '0',
        nodePages: {},
      },
      procEnd: {
        pid: 42,
        comm: 'victim',
        threads,
        cpuTicks: 0,
        oncpuNs: 1e6,
        runDelayNs: runqWaitNs,
        cpusAllowed: '0',
        memsAllowed: '0',
        nodePages: {},
      },
      psi,
      starved: { sampled: threads, threads: starvedNs > 0 ? 1 : 0, wholeWindow: starvedNs >= 3000e6 ? 1 : 0, waitNs: starvedNs },
    });

  it('a thread starved the whole window reads as critical run-queue wait, saying it never ran (healthy without it)', () => {
    const without = findings(gathered(0, 0), T);
    expect(without.map((f) => f.kind)).toEqual(['healthy']);
    const m = gathered(0, 3000e6);
    expect(m.sched!.runqWaitNs).toBe(3000e6);
    const f = findings(m, T)[0]!;
    expect(f.kind).toBe('cpu-contention');
    expect(f.severity).toBe('critical');
    expect(f.evidence.starved_whole_window).toBe(1);
    expect(f.evidence.starved_wait_ns).toBe(3000e6);
    expect(f.summary).toMatch(/1 of 2 threads starved: runnable the whole 3\.0 s but never ran/);
    expect(f.evidence.line).toMatch(/never ran/);
  });

  it('never more run-queue wait than every thread waiting the whole window', () => {
    // 2 threads, 3 s: 5 s already accounted (a wait that began before the window) plus a 3 s starved stretch.
    const m = gathered(5000e6, 3000e6);
    expect(m.sched!.runqWaitNs).toBe(2 * 3000e6);
  });
});
