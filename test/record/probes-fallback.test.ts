/**
 * record on a kernel that refuses the scheduler object: the signal comes from
 * bpftrace (openSignals' --backend auto fallback, with its one warning), one
 * bpftrace source per run scoped to that run's workload, every interval it
 * reports summed up to the first one that ends after the workload exited.
 * openSignals is replaced by a stand-in that hands out bpftrace sources whose
 * intervals the test delivers.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { SchedDelta } from '../../src/signals/sched/record.js';
import { emptyProc } from '../../src/signals/sched/record.js';
import type { RecordSource } from '../../src/signals/types.js';

interface FakeSource extends RecordSource {
  deliver(d: SchedDelta): void;
  closed: boolean;
}

const calls: Array<{ signals: readonly string[]; pids?: number[]; backend: string }> = [];
const sources: FakeSource[] = [];

function fakeSource(signal: string): FakeSource {
  const queue: SchedDelta[] = [];
  const waiting: Array<(d: SchedDelta) => void> = [];
  const read = (): Promise<SchedDelta> => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => waiting.push(r)));
  const src: FakeSource = {
    signal,
    backend: 'bpftrace',
    reason: "auto: the kernel refused sched.bpf.o (libbpf: map 'sched_tasks': failed to create); bpftrace can",
    selfTimed: true,
    raw: { backend: 'bpftrace', selfTimed: true, helperPids: () => [], close: () => {}, read },
    next: read,
    helperPids: () => [],
    closed: false,
    close: () => void (src.closed = true),
    deliver: (d) => {
      const w = waiting.shift();
      if (w) w(d);
      else queue.push(d);
    },
  };
  return src;
}

vi.mock('../../src/signals/open.js', () => ({
  openSignals: async (signals: readonly string[], scope: { pids?: number[] }, opts: { backend: string }) => {
    calls.push({ signals, pids: scope.pids, backend: opts.backend });
    const opened = signals.map(fakeSource);
    sources.push(...opened);
    return { sources: opened, producers: [], backends: [], failed: [], session: undefined, close: () => opened.forEach((s) => s.close()) };
  },
}));

const { RecordProbes } = await import('../../src/record/probes.js');

const interval = (pid: number, oncpuNs: number): SchedDelta => ({
  intervalNs: 1e9,
  procs: [emptyProc(pid, 'w', { cgroupId: '1', threads: 1, oncpuNs, nvcsw: 1 })],
  cgroups: [],
  cpus: [],
});

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

beforeEach(() => {
  calls.length = 0;
  sources.length = 0;
});

describe('record with the scheduler signal on bpftrace', () => {
  it('opens with --backend auto, sums every interval of the run up to one ending after finish(), and starts a new bpftrace per run', async () => {
    const pid = process.pid;
    const probes = new RecordProbes(['sched']);
    const [first] = await probes.attach(pid);
    expect(calls).toEqual([{ signals: ['sched'], pids: [pid], backend: 'auto' }]);
    const s1 = sources[0]!;
    // Three intervals while the workload runs, polled in between.
    s1.deliver(interval(pid, 100));
    await first!.poll();
    s1.deliver(interval(pid, 20));
    s1.deliver(interval(pid, 3));
    await tick();
    // The workload has exited: finish waits for the next interval, which is counted too.
    let done = false;
    const summary = first!.finish().then((s) => ((done = true), s));
    await tick();
    expect(done).toBe(false);
    s1.deliver(interval(pid, 4000));
    expect((await summary).metrics.cpu_ns).toBe(4123);
    expect((await summary).metrics['sched.switches']).toBe(4);

    // The next run: the first bpftrace is stopped, a new one is scoped to the new workload (no session to retarget).
    const [second] = await probes.attach(pid);
    expect(s1.closed).toBe(true);
    expect(calls[1]).toEqual({ signals: ['sched'], pids: [pid], backend: 'bpftrace' });
    const s2 = sources[1]!;
    s2.deliver(interval(pid, 7));
    const sum2 = second!.finish();
    await tick();
    s2.deliver(interval(pid, 1));
    expect((await sum2).metrics.cpu_ns).toBe(8);
    probes.close();
    expect(s2.closed).toBe(true);
  });

  it('a bpftrace that ended is reported at the next poll or finish, not swallowed', async () => {
    const probes = new RecordProbes(['sched']);
    const [p] = await probes.attach(process.pid);
    const s = sources[0]!;
    (s.raw as { read: () => Promise<unknown> }).read = () => Promise.reject(new Error('bpftrace ended (exit code 1)'));
    s.deliver(interval(process.pid, 1)); // releases the pending read; the next one fails
    await tick();
    await expect(p!.poll()).rejects.toThrow('bpftrace ended');
    await expect(p!.finish()).rejects.toThrow('bpftrace ended');
    probes.close();
  });
});
