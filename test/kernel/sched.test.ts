/**
 * The scheduler signal against the kernel's own accounting, on workloads
 * this test starts: three spinning threads on two CPUs (a known run-queue
 * wait) and a ping-pong pair over pipes (voluntary switches).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSchedBpf } from '../../src/signals/sched.js';
import { openSchedBpftrace } from '../../src/signals/sched-bpftrace.js';
import type { SchedDelta, SchedProcDelta } from '../../src/signals/sched-record.js';
import { start, type Running } from '../helpers/workloads.js';
import { diffTruth, procTruth, relErr } from '../helpers/procfs.js';
import { hasBpftrace, leftoverPins, requireBpf, skipKernel } from '../helpers/kernel.js';

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  expect(leftoverPins()).toEqual([]);
});

function proc(d: SchedDelta, pid: number): SchedProcDelta {
  const p = d.procs.find((x) => x.pid === pid);
  if (!p) throw new Error(`pid ${pid} missing from the delta (procs: ${d.procs.map((x) => x.pid).join(', ')})`);
  return p;
}

describe.skipIf(skipKernel)('sched (CO-RE) against /proc', () => {
  it('(a) run-queue wait agrees with /proc/PID/task/*/schedstat within 10%', async () => {
    const spin = await start('spin', [3, 0]);
    running.push(spin);
    const reader = await openSchedBpf({ pids: [spin.pid] });
    try {
      await sleep(300);
      await reader.read();
      const before = procTruth(spin.pid);
      await sleep(2500);
      const d = await reader.read();
      const truth = diffTruth(before, procTruth(spin.pid));
      const p = proc(d, spin.pid);
      console.log(
        `sched (a): run-queue wait over ${(d.intervalNs / 1e9).toFixed(2)} s: kernel accounting via BPF ${p.runDelayNs} ns, ` +
          `probe-measured ${p.waitNs} ns, schedstat ${truth.runDelayNs} ns (errors ${(100 * relErr(p.runDelayNs, truth.runDelayNs)).toFixed(2)}%, ` +
          `${(100 * relErr(p.waitNs, truth.runDelayNs)).toFixed(2)}%); on-CPU ${p.oncpuNs} vs ${truth.oncpuNs}`,
      );
      expect(truth.runDelayNs).toBeGreaterThan(5e8); // the workload really queues
      expect(relErr(p.runDelayNs, truth.runDelayNs)).toBeLessThan(0.1);
      expect(relErr(p.waitNs, truth.runDelayNs)).toBeLessThan(0.1);
      expect(relErr(p.oncpuNs, truth.oncpuNs)).toBeLessThan(0.1);
      expect(p.threads).toBe(3);
      expect(p.comm).toBe('spin');
      // Every wait lands in one histogram slot.
      expect(p.histWakeup.reduce((a, b) => a + b, 0) + p.histPreempt.reduce((a, b) => a + b, 0)).toBe(p.waits);
    } finally {
      reader.close();
    }
  });

  it('(b) context switches agree with voluntary + nonvoluntary_ctxt_switches within 5%', async () => {
    const spin = await start('spin', [3, 0]);
    const pp = await start('pingpong', [0]);
    running.push(spin, pp);
    const reader = await openSchedBpf({ pids: [pp.pid, spin.pid] });
    try {
      await sleep(300);
      await reader.read();
      const before = procTruth(pp.pid);
      await sleep(2000);
      const d = await reader.read();
      const truth = diffTruth(before, procTruth(pp.pid));
      const p = proc(d, pp.pid);
      const ours = p.nvcsw + p.nivcsw;
      const theirs = truth.voluntary + truth.involuntary;
      console.log(
        `sched (b): ping-pong switches ${ours} (vol ${p.nvcsw}, invol ${p.nivcsw}) vs /proc status ${theirs} (vol ${truth.voluntary}, invol ${truth.involuntary}): error ${(100 * relErr(ours, theirs)).toFixed(2)}%`,
      );
      expect(theirs).toBeGreaterThan(1000);
      expect(relErr(ours, theirs)).toBeLessThan(0.05);
      expect(relErr(p.nvcsw, truth.voluntary)).toBeLessThan(0.05);
    } finally {
      reader.close();
    }
  });

  it('scopes to a PID set: other processes are not reported', async () => {
    const spin = await start('spin', [3, 0]);
    const pp = await start('pingpong', [0]);
    running.push(spin, pp);
    const reader = await openSchedBpf({ pids: [pp.pid] });
    try {
      await sleep(300);
      await reader.read();
      await sleep(700);
      const d = await reader.read();
      expect(d.procs.map((p) => p.pid)).toEqual([pp.pid]);
    } finally {
      reader.close();
    }
  });
});

describe.skipIf(skipKernel || (!hasBpftrace() && !requireBpf))('sched: bpftrace backend against CO-RE', () => {
  it('(c) both backends agree within 15% on the same workload', async () => {
    const spin = await start('spin', [3, 0]);
    const pp = await start('pingpong', [0]);
    running.push(spin, pp);
    const scope = { pids: [spin.pid, pp.pid] };
    const bt = await openSchedBpftrace(scope, 500);
    const core = await openSchedBpf(scope);
    try {
      // Align: drop what bpftrace delivered so far, then take the CO-RE baseline at a bpftrace boundary.
      await bt.read();
      await core.read();
      const btDeltas: SchedDelta[] = [];
      for (let i = 0; i < 8; i++) btDeltas.push(await bt.read());
      const coreDelta = await core.read();
      const rate = (ds: SchedDelta[], pid: number, f: (p: SchedProcDelta) => number): number => {
        const ns = ds.reduce((s, d) => s + d.intervalNs, 0);
        const v = ds.reduce((s, d) => s + (d.procs.find((p) => p.pid === pid) ? f(d.procs.find((p) => p.pid === pid)!) : 0), 0);
        return v / (ns / 1e9);
      };
      const rows = [
        ['spin run-queue wait ns/s', rate(btDeltas, spin.pid, (p) => p.waitNs), rate([coreDelta], spin.pid, (p) => p.runDelayNs)],
        ['spin on-CPU ns/s', rate(btDeltas, spin.pid, (p) => p.oncpuNs), rate([coreDelta], spin.pid, (p) => p.oncpuNs)],
        ['ping-pong switches/s', rate(btDeltas, pp.pid, (p) => p.nvcsw + p.nivcsw), rate([coreDelta], pp.pid, (p) => p.nvcsw + p.nivcsw)],
        ['ping-pong run-queue wait ns/s', rate(btDeltas, pp.pid, (p) => p.waitNs), rate([coreDelta], pp.pid, (p) => p.runDelayNs)],
      ] as const;
      for (const [what, b, c] of rows) {
        console.log(`sched (c): ${what}: bpftrace ${b.toFixed(0)}, CO-RE ${c.toFixed(0)}, difference ${(100 * relErr(b, c)).toFixed(2)}%`);
      }
      for (const [what, b, c] of rows) expect(relErr(b, c), what).toBeLessThan(0.15);
    } finally {
      core.close();
      bt.close();
    }
  });
});
