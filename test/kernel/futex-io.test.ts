/**
 * futex and block I/O signals against ground truth the workloads measure
 * themselves (time inside pthread_mutex_lock) or the kernel counts
 * (/sys/block/DEV/stat), plus the event feed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { openFutexBpf } from '../../src/signals/futex/bpf.js';
import { openIoBpf } from '../../src/signals/io/bpf.js';
import { openSession } from '../../src/loader/session.js';
import { openSchedBpf } from '../../src/signals/sched/bpf.js';
import { openEvents } from '../../src/signals/events/bpf.js';
import { start, type Running } from '../helpers/workloads.js';
import { makeLoop, type LoopDevice } from '../helpers/loop.js';
import { relErr } from '../helpers/procfs.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PIN_ROOT } from '../../src/loader/paths.js';
import { IDLE_READS } from '../../src/signals/idle-prune.js';
import { DUMP_GC_EVERY } from '../../src/signals/io/dump.js';
import { parseJson } from '../../src/tools/json.js';
import { runTool } from '../../src/tools/run.js';

const running: Running[] = [];
const loops: LoopDevice[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  for (const l of loops.splice(0)) l.detach();
  expect(leftoverPins()).toEqual([]);
});

describe.skipIf(skipKernel)('futex (CO-RE)', () => {
  it('futex wait time agrees within 20% with the time threads spend inside pthread_mutex_lock', async () => {
    const lw = await start('lockwait', [4, 2, 200]);
    running.push(lw);
    const reader = await openFutexBpf({ pids: [lw.pid] });
    try {
      await reader.read();
      lw.send('go');
      const out = await lw.done();
      const d = await reader.read();
      const truth = Number(/lock_ns (\d+)/.exec(out.join('\n'))![1]);
      const p = d.procs.find((x) => x.pid === lw.pid)!;
      expect(p).toBeDefined();
      console.log(
        `futex: wait time ${p.waitNs} ns in ${p.waits} waits vs ${truth} ns inside pthread_mutex_lock (measured by the threads): error ${(100 * relErr(p.waitNs, truth)).toFixed(2)}%`,
      );
      expect(truth).toBeGreaterThan(1e9); // real contention
      expect(relErr(p.waitNs, truth)).toBeLessThan(0.2);
      expect(p.wakes).toBeGreaterThan(0);
      expect(p.hist.reduce((a, b) => a + b, 0)).toBe(p.waits);
      const word = d.addrs.filter((a) => a.pid === lw.pid).sort((a, b) => b.waitNs - a.waitNs)[0]!;
      expect(relErr(word.waitNs, truth)).toBeLessThan(0.2);
      expect(word.waitNs / p.waitNs).toBeGreaterThan(0.95); // one mutex: one hot word
    } finally {
      reader.close();
    }
  });

  it('counts several waiters at once on the contended word', async () => {
    const lw = await start('lockwait', [4, 1, 500]);
    running.push(lw);
    const reader = await openFutexBpf({ pids: [lw.pid] });
    try {
      await reader.read();
      lw.send('go');
      await sleep(600);
      const d = await reader.read();
      const word = d.addrs.sort((a, b) => b.waitNs - a.waitNs)[0]!;
      expect(word.maxWaiters).toBeGreaterThanOrEqual(2);
      expect(word.maxWaiters).toBeLessThanOrEqual(3); // 4 threads, one holds the lock
    } finally {
      reader.close();
    }
  });
});

describe.skipIf(skipKernel)('block I/O (CO-RE)', () => {
  it('IOPS on a loop device agree within 5% with /sys/block/DEV/stat', async () => {
    const loop = makeLoop();
    loops.push(loop);
    const dr = await start('dread', [loop.dev, 1.5, 4, 'rand']);
    running.push(dr);
    const reader = await openIoBpf({ pids: [dr.pid] });
    try {
      await reader.read();
      const before = loop.stat();
      dr.send('go');
      const out = await dr.done();
      await sleep(50);
      const d = await reader.read();
      const after = loop.stat();
      const truthReads = after.readIos - before.readIos;
      const dev = d.devices.find((x) => x.dev === loop.name)!;
      expect(dev).toBeDefined();
      const own = Number(/reads (\d+)/.exec(out.join('\n'))![1]);
      console.log(
        `io: ${loop.name} reads ${dev.reads} vs /sys/block stat ${truthReads} (error ${(100 * relErr(dev.reads, truthReads)).toFixed(2)}%), workload counted ${own}; bytes ${dev.readBytes} vs ${(after.readSectors - before.readSectors) * 512}`,
      );
      expect(truthReads).toBeGreaterThan(1000);
      expect(relErr(dev.reads, truthReads)).toBeLessThan(0.05);
      expect(relErr(dev.readBytes, (after.readSectors - before.readSectors) * 512)).toBeLessThan(0.05);
      expect(dev.lat.reduce((a, b) => a + b, 0)).toBe(dev.reads + dev.writes + dev.others);
      expect(dev.readSeq / dev.reads).toBeLessThan(0.05); // random reads
      const p = d.procs.find((x) => x.pid === dr.pid)!;
      expect(p.ios).toBe(dev.reads);
    } finally {
      reader.close();
    }
  });

  it('deletes a process entry idle for IDLE_READS reads (io_procs holds the processes active lately; io_dump deletes it, or the bpftool path)', async () => {
    const loop = makeLoop();
    loops.push(loop);
    const dr = await start('dread', [loop.dev, 0.2, 4, 'rand']);
    running.push(dr);
    const reader = await openIoBpf({ pids: [dr.pid] });
    try {
      // The reader's own io_procs pin (nothing else loads BPF objects under the machine lock; io_dump pins the same map again).
      const pins = readdirSync(PIN_ROOT, { recursive: true, encoding: 'utf8' }).filter(
        (f) => f.endsWith('/io_procs') && !f.includes('io_dump'),
      );
      expect(pins).toHaveLength(1);
      const keys = async (): Promise<number[]> =>
        (
          parseJson(await runTool('bpftool', ['-j', 'map', 'dump', 'pinned', path.join(PIN_ROOT, pins[0]!)])) as Array<{ key: string[] }>
        ).map((e) => Buffer.from(e.key.map((b) => Number(b))).readUInt32LE(0));
      await reader.read();
      dr.send('go');
      await dr.done();
      const d = await reader.read();
      expect(d.procs.find((x) => x.pid === dr.pid)?.ios).toBeGreaterThan(0);
      for (let i = 1; i < IDLE_READS; i++) await reader.read();
      expect(await keys()).toContain(dr.pid); // idle for IDLE_READS - 1 reads: kept
      // Gone at the next read (bpftool path), or at io_dump's next collection (every DUMP_GC_EVERY cycles).
      let reads = 0;
      do {
        await reader.read();
        reads++;
      } while ((await keys()).includes(dr.pid) && reads < 2 * Number(DUMP_GC_EVERY));
      console.log(`io: process entry removed after ${IDLE_READS - 1 + reads} idle reads (reads by ${reader.readsBy})`);
      expect(await keys()).not.toContain(dr.pid);
      expect(reads).toBeLessThanOrEqual(reader.readsBy === 'iterator' ? Number(DUMP_GC_EVERY) : 1);
    } finally {
      reader.close();
    }
  });

  it('tells sequential reads from random ones', async () => {
    const loop = makeLoop();
    loops.push(loop);
    const dr = await start('dread', [loop.dev, 0.5, 16, 'seq']);
    running.push(dr);
    const reader = await openIoBpf({ pids: [dr.pid] });
    try {
      await reader.read();
      dr.send('go');
      await dr.done();
      const d = await reader.read();
      const dev = d.devices.find((x) => x.dev === loop.name)!;
      expect(dev.readSeq / dev.reads).toBeGreaterThan(0.95);
      expect(dev.readBytes / dev.reads).toBe(16 * 1024);
    } finally {
      reader.close();
    }
  });
});

describe.skipIf(skipKernel)('event feed', () => {
  it('delivers run-queue and futex outliers of the scope, and its exit, through bpftool event_pipe', async () => {
    const spin = await start('spin', [3, 0]);
    const lw = await start('lockwait', [4, 1, 2000]);
    running.push(spin, lw);
    const session = await openSession({ pids: [spin.pid, lw.pid] });
    let sched, futex, events;
    try {
      sched = await openSchedBpf(session.scope, { session, outlierNs: 1e6 });
      futex = await openFutexBpf(session.scope, { session, outlierNs: 1e6 });
      events = await openEvents(session);
      await sched.read();
      await futex.read();
      await events.next();
      lw.send('go');
      await lw.done();
      await sched.read();
      const rec = await events.next();
      const runq = rec.events.filter((e) => e.type === 'runq_outlier');
      const fx = rec.events.filter((e) => e.type === 'futex_wait');
      console.log(`events: ${JSON.stringify(rec.counts)}, lost ${rec.lost}`);
      expect(runq.length).toBeGreaterThan(0);
      expect(runq.every((e) => e.pid === spin.pid || e.pid === lw.pid)).toBe(true);
      expect(runq.every((e) => (e.value_us ?? 0) >= 1000)).toBe(true);
      expect(runq.some((e) => e.ran_before && e.ran_before.pid > 0)).toBe(true);
      expect(fx.length).toBeGreaterThan(0);
      expect(fx.every((e) => e.pid === lw.pid && (e.value_us ?? 0) >= 1000)).toBe(true);
      expect(rec.events.some((e) => e.type === 'exit' && e.pid === lw.pid)).toBe(true);
      expect(rec.lost).toBe(0);
      expect(rec.bad).toBe(0);
    } finally {
      events?.close();
      futex?.close();
      sched?.close();
      session.close();
    }
  });
});

describe.skipIf(skipKernel)('burst detection on real I/O', () => {
  it('flags a burst injected into a steady load, and not the steady load alone', async () => {
    const { BurstDetector } = await import('../../src/aggregate/burst.js');
    const loop = makeLoop();
    loops.push(loop);
    const steady = await start('dread', [loop.dev, 6, 4, 'rand', 2000]);
    running.push(steady);
    const reader = await openIoBpf({});
    const series: Array<{ t: number; iops: number; burst: boolean }> = [];
    try {
      await reader.read();
      steady.send('go');
      const detector = new BurstDetector();
      const t0 = Date.now();
      let burst: Running | undefined;
      while (Date.now() - t0 < 5800) {
        await sleep(200);
        const d = await reader.read();
        const dev = d.devices.find((x) => x.dev === loop.name);
        const iops = dev ? (dev.reads * 1e9) / d.intervalNs : 0;
        const t = Date.now() - t0;
        series.push({ t, iops, burst: detector.observe(iops).burst });
        if (!burst && t >= 3500) {
          burst = await start('dread', [loop.dev, 0.8, 4, 'rand']);
          running.push(burst);
          burst.send('go');
        }
      }
      const before = series.filter((s) => s.t < 3500);
      const during = series.filter((s) => s.t >= 3800 && s.t <= 4300);
      console.log(
        `burst: steady ${before
          .slice(-3)
          .map((s) => s.iops.toFixed(0))
          .join(', ')} IOPS; during burst ${during.map((s) => s.iops.toFixed(0)).join(', ')}; flagged at ${series
          .filter((s) => s.burst)
          .map((s) => s.t)
          .join(', ')} ms`,
      );
      expect(before.length).toBeGreaterThan(10);
      expect(before.filter((s) => s.burst)).toEqual([]);
      expect(during.some((s) => s.burst)).toBe(true);
    } finally {
      reader.close();
    }
  });
});
