/**
 * The scheduler signal against the kernel's own accounting, on workloads
 * this test starts: three spinning threads on two CPUs (a known run-queue
 * wait) and a ping-pong pair over pipes (voluntary switches).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSchedBpf, type SignalReader } from '../../src/signals/sched/bpf.js';
import { openSchedBpftrace } from '../../src/signals/sched/bpftrace.js';
import { buildSchedRecord, type SchedDelta, type SchedProcDelta } from '../../src/signals/sched/record.js';
import { start, type Running } from '../helpers/workloads.js';
import { diffTruth, procTruth, relErr, type ProcTruth } from '../helpers/procfs.js';
import { hasBpftrace, leftoverPins, requireBpf, skipKernel } from '../helpers/kernel.js';
import { pickCpus } from '../helpers/cpus.js';

/** Workloads run on CPUs the test picks: three spinners on two CPUs wait for a CPU on a host of any size. */
const TWO_CPUS = pickCpus(2);
const ONE_CPU = Number(pickCpus(1));

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

/** Every task's run-queue wait so far (the second field of each task's schedstat in /proc), by tid. */
function allRunDelays(): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // exited
    }
    for (const tid of tids) {
      try {
        out.set(Number(tid), Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]));
      } catch {
        // exited
      }
    }
  }
  return out;
}

/** What every task of the machine waited between two snapshots (a task new in `b` counts in full). */
function runDelaySince(a: Map<number, number>, b: Map<number, number>): number {
  let sum = 0;
  for (const [tid, ns] of b) sum += Math.max(0, ns - (a.get(tid) ?? 0));
  return sum;
}

const readStatCtxt = (): number => Number(/^ctxt (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
/** Processes created since boot (/proc/stat): tasks that start and exit within a window take their waits with them. */
const readStatForks = (): number => Number(/^processes (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);

/**
 * One interval read by the reader (after a first read that drops the open's own interval), and over the
 * same interval each PID's kernel accounting and the machine's context switches (/proc/stat ctxt).
 */
async function measure(
  reader: SignalReader<SchedDelta>,
  pids: number[],
  ms: number,
): Promise<{
  d: SchedDelta;
  truth(pid: number): ProcTruth;
  bounds(pid: number): { inner: ProcTruth; outer: ProcTruth };
  ctxt: number;
  /** Every task's run-queue wait over the outer window (tasks that exited in it are missed). */
  allWaitNs: number;
  /** Processes created over the outer window: those that also exited in it are missing from `allWaitNs`. */
  forks: number;
}> {
  await sleep(300);
  const forks0 = readStatForks();
  const all0 = allRunDelays();
  const first = new Map(pids.map((p) => [p, procTruth(p)]));
  await reader.read();
  const before = new Map(pids.map((p) => [p, procTruth(p)]));
  const ctxt0 = readStatCtxt();
  await sleep(ms);
  const last = new Map(pids.map((p) => [p, procTruth(p)]));
  const d = await reader.read();
  const ctxt = readStatCtxt() - ctxt0;
  const after = new Map(pids.map((p) => [p, procTruth(p)]));
  const allWaitNs = runDelaySince(all0, allRunDelays());
  const forks = readStatForks() - forks0;
  return {
    d,
    allWaitNs,
    forks,
    truth: (pid) => diffTruth(before.get(pid)!, after.get(pid)!),
    // The reader's window lies between two reads that take time (much of it on a slow machine, such as
    // an emulated one, while spinners compete with the reader): it contains the inner window (after
    // the first read ends to before the second starts) and lies inside the outer one.
    bounds: (pid) => ({ inner: diffTruth(before.get(pid)!, last.get(pid)!), outer: diffTruth(first.get(pid)!, after.get(pid)!) }),
    ctxt,
  };
}

/** How far `ours` lies outside [lo, hi], relative to the nearer bound (0 inside). */
function errOutside(ours: number, lo: number, hi: number): number {
  return ours < lo ? relErr(ours, lo) : ours > hi ? relErr(ours, hi) : 0;
}

describe.skipIf(skipKernel)('sched (CO-RE) against /proc', () => {
  it('(a) run-queue wait agrees with /proc/PID/task/*/schedstat within 10%', async () => {
    const spin = await start('spin', [3, 0], { cpus: TWO_CPUS });
    running.push(spin);
    const reader = await openSchedBpf({ pids: [spin.pid] });
    try {
      const { d, truth: truthOf, bounds } = await measure(reader, [spin.pid], 2500);
      const truth = truthOf(spin.pid);
      const { inner, outer } = bounds(spin.pid);
      const p = proc(d, spin.pid);
      console.log(
        `sched (a): run-queue wait over ${(d.intervalNs / 1e9).toFixed(2)} s: kernel accounting via BPF ${p.runDelayNs} ns, ` +
          `probe-measured ${p.waitNs} ns, schedstat ${truth.runDelayNs} ns (errors ${(100 * relErr(p.runDelayNs, truth.runDelayNs)).toFixed(2)}%, ` +
          `${(100 * relErr(p.waitNs, truth.runDelayNs)).toFixed(2)}%; schedstat between the reads ${inner.runDelayNs}..${outer.runDelayNs} ns, ` +
          `outside by ${(100 * errOutside(p.waitNs, inner.runDelayNs, outer.runDelayNs)).toFixed(2)}%); on-CPU ${p.oncpuNs} vs ${truth.oncpuNs}`,
      );
      expect(truth.runDelayNs).toBeGreaterThan(5e8); // the workload really queues
      expect(errOutside(p.runDelayNs, inner.runDelayNs, outer.runDelayNs)).toBeLessThan(0.1);
      expect(errOutside(p.waitNs, inner.runDelayNs, outer.runDelayNs)).toBeLessThan(0.1);
      expect(errOutside(p.oncpuNs, inner.oncpuNs, outer.oncpuNs)).toBeLessThan(0.1);
      expect(p.threads).toBe(3);
      expect(p.comm).toBe('spin');
      // Every wait lands in one histogram slot.
      expect(p.histWakeup.reduce((a, b) => a + b, 0) + p.histPreempt.reduce((a, b) => a + b, 0)).toBe(p.waits);
    } finally {
      reader.close();
    }
  });

  it('(b) context switches agree with voluntary + nonvoluntary_ctxt_switches within 5%', async () => {
    const spin = await start('spin', [3, 0], { cpus: TWO_CPUS });
    const pp = await start('pingpong', [0], { cpus: TWO_CPUS });
    running.push(spin, pp);
    const reader = await openSchedBpf({ pids: [pp.pid, spin.pid] });
    try {
      const { d, truth: truthOf, bounds } = await measure(reader, [pp.pid], 2000);
      const truth = truthOf(pp.pid);
      const { inner, outer } = bounds(pp.pid);
      const p = proc(d, pp.pid);
      const ours = p.nvcsw + p.nivcsw;
      const theirs = truth.voluntary + truth.involuntary;
      const [lo, hi] = [inner.voluntary + inner.involuntary, outer.voluntary + outer.involuntary];
      console.log(
        `sched (b): ping-pong switches ${ours} (vol ${p.nvcsw}, invol ${p.nivcsw}) vs /proc status ${theirs} (vol ${truth.voluntary}, invol ${truth.involuntary}): error ${(100 * relErr(ours, theirs)).toFixed(2)}%; ` +
          `/proc between the reads ${lo}..${hi}, outside by ${(100 * errOutside(ours, lo, hi)).toFixed(2)}%`,
      );
      // Enough switches that the 5% bound is more than a handful of them (an emulated kernel, with its
      // slow vCPUs shared by three spinners, makes 500 to 600 in the window; the host tens of thousands).
      expect(theirs).toBeGreaterThan(300);
      expect(errOutside(ours, lo, hi)).toBeLessThan(0.05);
      expect(errOutside(p.nvcsw, inner.voluntary, outer.voluntary)).toBeLessThan(0.05);
    } finally {
      reader.close();
    }
  });

  it('scopes to a PID set: other processes are not reported', async () => {
    const spin = await start('spin', [3, 0], { cpus: TWO_CPUS });
    const pp = await start('pingpong', [0], { cpus: TWO_CPUS });
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
  it("(c) both backends agree within 15% on the same workload (short waits: within bpftrace's own cost per wait)", async () => {
    const spin = await start('spin', [3, 0], { cpus: TWO_CPUS });
    const pp = await start('pingpong', [0], { cpus: TWO_CPUS });
    running.push(spin, pp);
    const scope = { pids: [spin.pid, pp.pid] };
    const bt = await openSchedBpftrace(scope, 500);
    const core = await openSchedBpf(scope);
    try {
      // Align: drop what bpftrace delivered so far (loading the CO-RE object takes a second or more, and
      // bpftrace queues an interval every 500 ms meanwhile: a read that returns at once was queued), then
      // take the CO-RE baseline right after a read that waited for a fresh interval boundary.
      for (let drained = 0; drained < 20; drained++) {
        const t0 = performance.now();
        await bt.read();
        if (performance.now() - t0 > 100) break;
      }
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
      for (const [what, b, c] of rows.slice(0, 3)) expect(relErr(b, c), what).toBeLessThan(0.15);
      // The ping-pong's waits last a few µs, and bpftrace's timestamps bracket the kernel's: they are taken in
      // its own probes (sched_wakeup, before the enqueue; sched_switch), whose cost falls inside each wait. So
      // bpftrace reads more, by at most a few µs per wait (0.7 to 1.9 µs here), not a share of the total.
      const [, btWait, coreWait] = rows[3];
      const waitsPerSec = rows[2][2];
      const excessUsPerWait = (btWait - coreWait) / waitsPerSec / 1000;
      console.log(`sched (c): ping-pong: bpftrace reads ${excessUsPerWait.toFixed(2)} µs more per wait`);
      expect(btWait).toBeGreaterThan(0.95 * coreWait);
      expect(excessUsPerWait).toBeLessThan(3);
    } finally {
      core.close();
      bt.close();
    }
  });
});

/** Σ count·2^k and Σ count·2^(k+1) over a log2 histogram: the bounds its waits put on their sum (top slot: no upper bound). */
function histBounds(h: number[]): { low: number; high: number } {
  let low = 0;
  let high = 0;
  h.forEach((n, k) => {
    low += n * (k === 0 ? 0 : 2 ** k);
    if (n > 0) high += k === h.length - 1 ? Infinity : n * 2 ** (k + 1);
  });
  return { low, high };
}

/** Each wait's histogram slot and count, checked against the kernel's accounting of the same process. */
/**
 * The histogram against schedstat: its count of waits against the timeslices (schedstat counts a wait as it ends, as
 * the histogram does), its slots against the run-queue wait, both judged against the reader's window's bracket
 * (`measure`: the inner and outer windows), so time spent reading at the window's edges, long on a loaded machine,
 * is not counted as an error.
 */
function expectHistMatches(label: string, p: SchedProcDelta, b: { inner: ProcTruth; outer: ProcTruth }): void {
  const h = p.histWakeup.map((n, k) => n + p.histPreempt[k]!);
  const count = h.reduce((a, b) => a + b, 0);
  const { low, high } = histBounds(h);
  const err = errOutside(count, b.inner.timeslices, b.outer.timeslices);
  console.log(
    `sched ${label}: ${count} waits in the histogram vs ${b.inner.timeslices}..${b.outer.timeslices} timeslices in schedstat (error ${(100 * err).toFixed(2)}%); ` +
      `slots bound the wait to ${low}..${high} ns, schedstat ${b.inner.runDelayNs}..${b.outer.runDelayNs} ns`,
  );
  expect(b.inner.timeslices).toBeGreaterThan(50);
  expect(err).toBeLessThan(0.02);
  expect(low).toBeLessThanOrEqual(b.outer.runDelayNs * 1.02);
  expect(high).toBeGreaterThanOrEqual(b.inner.runDelayNs * 0.98);
}

const readPidMax = (): number => Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));

/** The tids of a process, modulo the sched object's table size (bpf/sched.bpf.c: SCHED_TID_SLOTS). */
const TID_SLOTS = 32768;
const slotsOf = (pid: number): number[] =>
  readdirSync(`/proc/${pid}/task`)
    .map((t) => Number(t) % TID_SLOTS)
    .sort((a, b) => a - b);

describe.skipIf(skipKernel)('sched (CO-RE): histograms, CPUs and table collisions', () => {
  it('(d) every wait is in the histogram: counts match schedstat timeslices, slots bound schedstat run_delay', async () => {
    const spin = await start('spin', [3, 0], { cpus: TWO_CPUS });
    const pp = await start('pingpong', [0], { cpus: TWO_CPUS });
    running.push(spin, pp);
    const reader = await openSchedBpf({ pids: [spin.pid, pp.pid] });
    try {
      const { d, bounds } = await measure(reader, [spin.pid, pp.pid], 2000);
      expectHistMatches('(d) spin', proc(d, spin.pid), bounds(spin.pid));
      expectHistMatches('(d) ping-pong', proc(d, pp.pid), bounds(pp.pid));
    } finally {
      reader.close();
    }
  });

  it('(e) per-CPU: run-queue length of three spinners pinned to one CPU, switches against /proc/stat', async () => {
    const spin = await start('spin', [3, 0], { cpus: String(ONE_CPU) });
    running.push(spin);
    const reader = await openSchedBpf({ pids: [spin.pid] });
    try {
      // The upper bounds compare with what every other task waited by its schedstat; a task that started and
      // exited within the window (a build beside the test forks hundreds, each waiting behind the others)
      // took its waits with it, and the bounds cannot be checked. Such a window is measured again (at most
      // 5 times); a window in which at most 5 processes were created must meet them.
      for (let attempt = 1; ; attempt++) {
        const { d, truth: truthOf, ctxt, allWaitNs, bounds, forks } = await measure(reader, [spin.pid], 2000);
        const truth = truthOf(spin.pid);
        // What the rest of the machine waited meanwhile (other work on a shared or CI machine queues on that CPU too).
        const elsewhere = Math.max(0, allWaitNs - bounds(spin.pid).outer.runDelayNs) / d.intervalNs;
        const cpu0 = d.cpus.find((c) => c.cpu === ONE_CPU)!;
        const others = d.cpus.filter((c) => c.cpu !== ONE_CPU);
        const len = (c: { waitNs: number }): number => c.waitNs / d.intervalNs;
        const switches = d.cpus.reduce((s, c) => s + c.switches, 0);
        console.log(
          `sched (e) attempt ${attempt}: CPU ${ONE_CPU} run-queue length ${len(cpu0).toFixed(3)} (the spinners' own waits: ${(truth.runDelayNs / d.intervalNs).toFixed(3)}), ` +
            `other CPUs ${others.map((c) => len(c).toFixed(3)).join(', ')}; every other task's waits ${elsewhere.toFixed(3)}; ${forks} processes created; ` +
            `switches ${switches} vs /proc/stat ctxt ${ctxt} (error ${(100 * relErr(switches, ctxt)).toFixed(2)}%)`,
        );
        // Three runnable, one running: two waiting, all on that CPU.
        expect(len(cpu0)).toBeGreaterThan(0.97 * (truth.runDelayNs / d.intervalNs));
        expect(truth.runDelayNs / d.intervalNs).toBeGreaterThan(1.7);
        expect(relErr(switches, ctxt)).toBeLessThan(0.05);
        // Everything else that waits adds what the rest of the machine's tasks waited, plus a little for tasks
        // that exited meanwhile.
        const bounded = len(cpu0) < truth.runDelayNs / d.intervalNs + elsewhere + 0.2 && others.every((c) => len(c) < elsewhere + 0.3);
        if (!bounded && forks > 5) {
          if (attempt < 5) continue;
          console.log(`sched (e): every window saw processes start and exit: the upper bounds were not checkable`);
          break;
        }
        expect(len(cpu0)).toBeLessThan(truth.runDelayNs / d.intervalNs + elsewhere + 0.2);
        for (const c of others) expect(len(c)).toBeLessThan(elsewhere + 0.3);
        break;
      }
    } finally {
      reader.close();
    }
  });

  it('(g) outside the scope: the waits of a process not in the PID set, against its schedstat', async () => {
    // Two spinners of two threads each on one CPU: three of the four threads wait at any time. One process is the
    // scope; the other is outside it, and what the record says tasks outside the scope waited is its run-queue
    // wait plus what the rest of the machine waited meanwhile.
    const inside = await start('spin', [2, 0], { cpus: String(ONE_CPU) });
    const outside = await start('spin', [2, 0], { cpus: String(ONE_CPU) });
    running.push(inside, outside);
    const reader = await openSchedBpf({ pids: [inside.pid] });
    try {
      for (let attempt = 1; ; attempt++) {
        const { d, bounds, allWaitNs, forks } = await measure(reader, [inside.pid, outside.pid], 2000);
        const rec = buildSchedRecord(d, { backend: 'bpf', now: new Date(), top: 10, cgroupName: (id) => id });
        const out = bounds(outside.pid);
        const elsewhere = Math.max(0, allWaitNs - bounds(inside.pid).outer.runDelayNs - out.outer.runDelayNs);
        const ours = rec.outside.runq_wait_ns;
        console.log(
          `sched (g) attempt ${attempt}: outside the scope ${ours} ns (${rec.outside.runq_len_avg} tasks); the outside spinner's schedstat ` +
            `${out.inner.runDelayNs}..${out.outer.runDelayNs} ns, every other task ${elsewhere} ns; ${forks} processes created; ` +
            `the scope's own ${proc(d, inside.pid).waitNs} ns`,
        );
        expect(rec.procs.map((p) => p.pid)).toEqual([inside.pid]);
        // About 1.5 tasks of the four threads' three waiting are the outside spinner's; waits of the scope are not.
        expect(out.inner.runDelayNs / d.intervalNs).toBeGreaterThan(1.2);
        expect(ours).toBeGreaterThan(0.95 * out.inner.runDelayNs);
        const upper = out.outer.runDelayNs + elsewhere + 0.1 * d.intervalNs;
        if (ours >= upper && forks > 5 && attempt < 5) continue; // a task that started and exited took its waits along
        expect(ours).toBeLessThan(upper);
        break;
      }
    } finally {
      reader.close();
    }
  });

  it('(f) two processes whose threads share table slots (tids equal modulo the table size) both keep exact figures', async () => {
    const pidMax = readPidMax();
    // Room for tids above the table size: raised for the test, put back after.
    if (pidMax <= TID_SLOTS) writeFileSync('/proc/sys/kernel/pid_max', String(2 * TID_SLOTS));
    try {
      const first = await start('spin', [2, 0]);
      running.push(first);
      const target = first.pid + TID_SLOTS + 3 < readPidMax() ? first.pid + TID_SLOTS : first.pid - TID_SLOTS;
      let second: Running | undefined;
      for (let attempt = 0; attempt < 20 && !second; attempt++) {
        // The next PID the kernel hands out is ns_last_pid + 1: the first one's, plus or minus the table size.
        writeFileSync('/proc/sys/kernel/ns_last_pid', String(target - 1));
        const s = await start('spin', [2, 0]);
        running.push(s);
        if (JSON.stringify(slotsOf(s.pid)) === JSON.stringify(slotsOf(first.pid))) second = s;
        else await s.stop();
      }
      expect(second, 'could not start a process on the same table slots (other processes forked in between)').toBeDefined();
      const reader = await openSchedBpf({ pids: [first.pid, second!.pid] });
      try {
        const { d, truth: truthOf, bounds } = await measure(reader, [first.pid, second!.pid], 2000);
        for (const r of [first, second!]) {
          const truth = truthOf(r.pid);
          const p = proc(d, r.pid);
          console.log(
            `sched (f): pid ${r.pid} (slots ${slotsOf(r.pid).join(',')}): run-queue wait ${p.runDelayNs} vs schedstat ${truth.runDelayNs}`,
          );
          expect(relErr(p.runDelayNs, truth.runDelayNs)).toBeLessThan(0.05);
          expect(relErr(p.waitNs, truth.runDelayNs)).toBeLessThan(0.05);
          expectHistMatches(`(f) pid ${r.pid}`, p, bounds(r.pid));
        }
      } finally {
        reader.close();
      }
    } finally {
      writeFileSync('/proc/sys/kernel/pid_max', String(pidMax));
    }
  });
});
