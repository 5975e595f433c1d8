/** Decoding recorded bpftool dumps and bpftrace output, and building the record. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeCgroups, decodeCpus, decodeProcs, parseFlushOutput } from '../../src/signals/sched/bpf.js';
import { countCpus, encodeScope } from '../../src/loader/session.js';
import { cpuSubsysIndex, schedDeltaFromMaps } from '../../src/signals/sched/bpftrace.js';
import { buildSchedRecord, emptyProc, procHists, type SchedDelta, type SchedProcDelta } from '../../src/signals/sched/record.js';
import { Cumulative } from '../../src/signals/cumulative.js';
import { parseJson } from '../../src/tools/json.js';

const fixture = (p: string): string => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8');

describe('CO-RE map decoding (recorded bpftool -jp dumps)', () => {
  it('decodes sched_procs with 64-bit counters and histograms', () => {
    const procs = decodeProcs(parseJson(fixture('bpftool/sched_procs.json')));
    const spin = procs.find((p) => p.value.comm === 'spin');
    expect(spin).toBeDefined();
    expect(typeof spin!.value.oncpu).toBe('bigint');
    expect(spin!.value.oncpu).toBeGreaterThan(0n);
    expect(spin!.value.histWakeup).toHaveLength(40);
    expect(spin!.value.histPreempt).toHaveLength(40);
    const waits = spin!.value.histWakeup.concat(spin!.value.histPreempt).reduce((a, b) => a + b, 0);
    expect(BigInt(waits)).toBe(spin!.value.waits);
  });

  it('decodes sched_cgroups and the per-CPU sched_cpus', () => {
    const cgs = decodeCgroups(parseJson(fixture('bpftool/sched_cgroups.json')));
    expect(cgs.length).toBeGreaterThan(0);
    expect(cgs[0]!.key).toMatch(/^\d+$/);
    const cpus = decodeCpus(parseJson(fixture('bpftool/sched_cpus.json')));
    expect(cpus.map((c) => c.cpu)).toEqual([0, 1]);
    expect(cpus[0]).toEqual({ cpu: 0, switches: 224490385n, waitNs: 3811220n });
    expect(cpus[1]).toEqual({ cpu: 1, switches: 125623852n, waitNs: 1231159n });
  });

  it('parses the iterator line and refuses anything else', () => {
    expect(parseFlushOutput('cycle 12 tasks 80\n')).toEqual({ cycle: 12n, tasks: 80 });
    expect(() => parseFlushOutput('garbage')).toThrow(/unexpected output/);
  });

  it('encodes struct tuner_scope little-endian', () => {
    const hier = { version: 1 as const, mountPoint: '/sys/fs/cgroup/cpu', root: '/', controllers: ['cpu'] };
    const b = Buffer.from(
      encodeScope({ cgroup: { path: '/sys/fs/cgroup/cpu/x', name: '/x', hierarchy: hier, id: 0x0102030405n, level: 1 } }),
    );
    expect([...b]).toEqual([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5, 4, 3, 2, 1, 0, 0, 0]);
    expect([...encodeScope({ pids: [1], followChildren: true })].slice(0, 8)).toEqual([1, 0, 0, 0, 1, 0, 0, 0]);
    expect([...encodeScope({})]).toEqual(new Array(24).fill(0));
  });

  it('counts possible CPUs', () => {
    expect(countCpus('0-1\n')).toBe(2);
    expect(countCpus('0,2-5,7\n')).toBe(6);
  });
});

describe('Cumulative', () => {
  it('pairs entries with their previous reading, and restarts a re-created entry from zero', () => {
    const c = new Cumulative<number>();
    expect(c.step([{ key: 'a', created: '1', value: 5 }])).toEqual([{ key: 'a', cur: 5, prev: undefined }]);
    expect(c.step([{ key: 'a', created: '1', value: 9 }])).toEqual([{ key: 'a', cur: 9, prev: 5 }]);
    expect(c.step([{ key: 'a', created: '4', value: 2 }])).toEqual([{ key: 'a', cur: 2, prev: undefined }]);
    expect(c.step([])).toEqual([]);
    expect(c.step([{ key: 'a', created: '4', value: 3 }])).toEqual([{ key: 'a', cur: 3, prev: undefined }]);
  });
});

describe('bpftrace output (recorded)', () => {
  it('folds one interval of printed maps into a delta', () => {
    const lines = fixture('bpftrace/sched.ndjson')
      .trim()
      .split('\n')
      .map((l) => parseJson(l) as { type: string; data: unknown });
    const maps = new Map<string, Record<string, unknown>>();
    const marks: bigint[] = [];
    let delta: SchedDelta | undefined;
    for (const r of lines) {
      if (r.type === 'map' || r.type === 'hist') for (const [k, v] of Object.entries(r.data as object)) maps.set(k, v);
      if (r.type === 'printf') {
        const m = /tuner-(start|interval) (\d+)/.exec(r.data as string);
        if (m) {
          marks.push(BigInt(m[2]!));
          if (m[1] === 'interval' && !delta) delta = schedDeltaFromMaps(maps, Number(marks.at(-1)! - marks.at(-2)!), 2);
          maps.clear();
        }
      }
    }
    expect(delta).toBeDefined();
    const spin = delta!.procs.find((p) => p.comm === 'spin')!;
    expect(spin.nivcsw).toBeGreaterThan(100);
    expect(spin.histPreempt.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(delta!.cpus).toHaveLength(2);
    expect(delta!.intervalNs).toBeGreaterThan(9e8);
  });

  it('finds the cpu controller index in /proc/cgroups', () => {
    expect(cpuSubsysIndex('#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t1\t1\ncpu\t1\t1\t1\ncpuacct\t2\t1\t1\n')).toBe(1);
    expect(cpuSubsysIndex('#subsys_name\nmemory\t0\t1\t1\n')).toBe(0);
  });
});

function proc(pid: number, over: Partial<SchedProcDelta> = {}): SchedProcDelta {
  return emptyProc(pid, `p${pid}`, { cgroupId: '7', threads: 1, ...over });
}

describe('procHists', () => {
  const procs = [proc(1, { histWakeup: [1, 2], histPreempt: [0, 1] }), proc(2, { histWakeup: [0, 3], histPreempt: [4] })];
  const delta = (procHist?: SchedDelta['procHist']): SchedDelta => ({ intervalNs: 1e9, procs, procHist, cgroups: [], cpus: [] });

  it("takes the reader's sums when it made them, else sums the processes' own", () => {
    // The reader's sums differ from the processes' here on purpose: which one was taken shows.
    const sums = { wakeup: [9, 9], preempt: [8] };
    expect(procHists(delta(sums))).toEqual(sums);
    expect(procHists(delta())).toEqual({ wakeup: [1, 5], preempt: [4, 1] });
  });

  it('sums only the subset asked for, even when the reader summed every process', () => {
    expect(procHists(delta({ wakeup: [9, 9], preempt: [8] }), [procs[1]!])).toEqual({ wakeup: [0, 3], preempt: [4] });
  });
});

describe('buildSchedRecord', () => {
  const base = { backend: 'bpf' as const, now: new Date('2026-01-01T00:00:00Z'), top: 2, cgroupName: (id: string) => `/cg${id}` };

  it('sums, sorts by run-queue wait, keeps the top N, and computes percentiles', () => {
    const delta: SchedDelta = {
      intervalNs: 1e9,
      procs: [
        proc(1, { runDelayNs: 10, nvcsw: 1, histWakeup: [0, 0, 0, 1] }),
        proc(2, { runDelayNs: 300, nivcsw: 2, histPreempt: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], maxWaitNs: 1500 }),
        proc(3, { runDelayNs: 50, nvcsw: 4 }),
      ],
      cgroups: [
        {
          cgroupId: '7',
          oncpuNs: 100,
          runDelayNs: 300,
          nvcsw: 5,
          nivcsw: 2,
          waits: 3,
          waitNs: 360,
          histWakeup: [0, 0, 0, 1],
          histPreempt: [],
        },
      ],
      cpus: [{ cpu: 0, switches: 10, waitNs: 5e8 }],
    };
    const r = buildSchedRecord(delta, { ...base, busyPct: new Map([[0, 55.55]]) });
    expect(r.procs.map((p) => p.pid)).toEqual([2, 3]);
    expect(r.switches).toBe(7);
    expect([r.voluntary, r.involuntary]).toEqual([5, 2]);
    expect(r.runq.wait_ns).toBe(360);
    expect(r.runq.count).toBe(3);
    expect(r.runq.max_us).toBe(1.5);
    expect(r.runq.p99_us).toBe(1.5); // clamped to the known maximum
    expect(r.cpus).toEqual([{ cpu: 0, runq_len_avg: 0.5, busy_pct: 55.6, switches: 10 }]);
    expect(r.procs[0]!.cgroup).toBe('/cg7');
    expect(r.cgroups[0]!.wait_share).toBe(0.75);
    expect(r.ts).toBe('2026-01-01T00:00:00.000Z');
  });

  it("outside the scope: every CPU's waits less the scope's, all of its processes (not only the top N)", () => {
    const delta: SchedDelta = {
      intervalNs: 2e9,
      // Three processes in scope, the third not shown (top 2) but its waits are the scope's too.
      procs: [
        proc(1, { runDelayNs: 9e8, waitNs: 1e9 }),
        proc(2, { runDelayNs: 5e8, waitNs: 5e8 }),
        proc(3, { runDelayNs: 1, waitNs: 2e8 }),
      ],
      cgroups: [],
      cpus: [
        { cpu: 0, switches: 1, waitNs: 2.5e9 },
        { cpu: 1, switches: 1, waitNs: 1e9 },
      ],
    };
    const r = buildSchedRecord(delta, base);
    expect(r.procs).toHaveLength(2);
    expect(r.outside).toEqual({ runq_wait_ns: 1.8e9, runq_len_avg: 0.9 });
    // Never negative (waits fold into a CPU's counter a little after they end).
    const late = buildSchedRecord({ ...delta, cpus: [{ cpu: 0, switches: 1, waitNs: 1e9 }] }, base);
    expect(late.outside).toEqual({ runq_wait_ns: 0, runq_len_avg: 0 });
  });

  it('with --pid, holds exactly the named processes, zeros for the quiet ones', () => {
    const delta: SchedDelta = { intervalNs: 1e9, procs: [proc(1, { runDelayNs: 9 }), proc(2, { runDelayNs: 99 })], cgroups: [], cpus: [] };
    const r = buildSchedRecord(delta, { ...base, pids: [1, 42], commOf: (pid) => `c${pid}` });
    expect(r.procs.map((p) => [p.pid, p.comm, p.runq_wait_ns])).toEqual([
      [1, 'p1', 9],
      [42, 'c42', 0],
    ]);
    expect(r.runq.wait_ns).toBe(9);
  });
});
