/**
 * "Waiters at once" on a futex word never exceeds the threads that wait:
 * the count is made of matched wait enters and exits, so the test takes the
 * exit program away (its pinned link removed: the kernel stops running it,
 * as it skips a program it cannot run) and checks the count does not drift
 * with every wait, and that nothing is counted before userspace arms the
 * object (the window where bpftool has attached the enter program and not
 * yet the exit one).
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { openBpfObjects } from '../../src/signals/bpf-objects.js';
import { decodeFutexAddrs, encodeFutexConfig } from '../../src/signals/futex/bpf.js';
import { writeConfig } from '../../src/loader/session.js';
import { start, type Running } from '../helpers/workloads.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';

const THREADS = 4;

/** On-CPU nanoseconds of every thread of `pid` so far (schedstat's first field; threads that exited are lost). */
function onCpuNs(pid: number): number {
  let sum = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return sum;
}

/**
 * Let the threads contend: at least 800 ms and 300 ms of their CPU time (on a busy host they may get
 * little of it), at most 4 s of the workload's 5 s.
 */
async function contend(pid: number): Promise<void> {
  const t0 = Date.now();
  const cpu0 = onCpuNs(pid);
  while (Date.now() - t0 < 4000 && (Date.now() - t0 < 800 || onCpuNs(pid) - cpu0 < 300e6)) await sleep(50);
}
const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  expect(leftoverPins()).toEqual([]);
});

/** Load futex.bpf.o scoped to a contended lockwait; `armed` writes the config (cycle 1) as the reader does. */
async function contended(armed: boolean, detachExit = true) {
  const lw = await start('lockwait', [THREADS, 5, 200]);
  running.push(lw);
  const objects = await openBpfObjects({ pids: [lw.pid] }, {});
  const core = await objects.load('futex');
  if (armed) await writeConfig(objects.batch, core.map('futex_config'), encodeFutexConfig(0, 1n));
  // The exit program is gone from here on: every wait's exit is missed.
  if (detachExit) rmSync(core.link('futex_exit'), { force: true });
  lw.send('go');
  await contend(lw.pid);
  if (armed) await writeConfig(objects.batch, core.map('futex_config'), encodeFutexConfig(0, 2n));
  const words = decodeFutexAddrs(await objects.batch.request(['map', 'dump', 'pinned', core.map('futex_addrs')])).filter(
    (w) => w.value.tgid === lw.pid,
  );
  const procs = (await objects.batch.request(['map', 'dump', 'pinned', core.map('futex_procs')])) as unknown[];
  return { objects, words, procs };
}

describe.skipIf(skipKernel)('futex waiters at once', () => {
  it('missed wait exits do not pile up: at most one waiter per thread of the process', async () => {
    const { objects, words } = await contended(true);
    try {
      expect(words.length).toBeGreaterThan(0);
      const hot = words.sort((a, b) => Number(b.value.max.value[1] ?? 0n) - Number(a.value.max.value[1] ?? 0n))[0]!;
      // Cycle 1 is slot 1: the most waiting at once during the contended window.
      expect(hot.value.max.cycle[1]).toBe(1n);
      const most = Number(hot.value.max.value[1]);
      console.log(`futex: ${most} waiters at once on ${hot.key} with its exit program detached (${THREADS} threads)`);
      expect(most).toBeGreaterThanOrEqual(1);
      expect(most).toBeLessThanOrEqual(THREADS);
    } finally {
      objects.close();
    }
  });

  // Waits and wakes alike: a wake entered before arming and finished by the exit program was once counted.
  it.each([
    ['enter attached, exit not yet', true],
    ['both attached', false],
  ])('counts nothing before the object is armed (%s)', async (_name, detachExit) => {
    const { objects, words, procs } = await contended(false, detachExit);
    try {
      expect(words).toEqual([]);
      expect(procs).toEqual([]);
    } finally {
      objects.close();
    }
  });
});
