/**
 * The futex reader reads only what changed (the object's dump iterator):
 * deltas stay exact when 1,500 processes change in one interval (more than
 * one pass of the iterator holds), an idle interval writes none of them, and
 * no bpftool process stays after set-up (the compat variant reads through
 * bpftool: the same counts are checked). Ground truth is the workload's own
 * count: each round is exactly N wake calls (test/workloads/futexers.c).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { openFutexBpf } from '../../src/signals/futex/bpf.js';
import { start, type Running } from '../helpers/workloads.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';

const N = 1500;
const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  expect(leftoverPins()).toEqual([]);
});

function children(pid: number): Set<number> {
  return new Set(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
}

async function round(w: Running, k: number): Promise<void> {
  w.send('go');
  for (let i = 0; i < 600 && !w.output.includes(`round ${k}`); i++) await sleep(50);
  expect(w.output).toContain(`round ${k}`);
}

describe.skipIf(skipKernel)('futex dump iterator', () => {
  it(`exact wake counts over reads with ${N} changed processes, none written when idle, no bpftool left`, async () => {
    const w = await start('futexers', [N]);
    running.push(w);
    const kids = children(w.pid);
    expect(kids.size).toBe(N);
    const reader = await openFutexBpf({});
    try {
      // The compat variant (old kernels) has no dump iterator: it reads through bpftool.
      const iterator = reader.readsBy === 'iterator';
      if (iterator) expect(reader.helperPids()).toEqual([]);
      await reader.read();
      for (let k = 1; k <= 3; k++) {
        await round(w, k);
        const d = await reader.read();
        const mine = d.procs.filter((p) => kids.has(p.pid));
        const wakes = mine.reduce((s, p) => s + p.wakes, 0);
        console.log(`futex dump: round ${k}: ${wakes} wakes in ${mine.length} processes (expected ${N})`);
        expect(mine.length).toBe(N);
        expect(wakes).toBe(N);
        expect(mine.every((p) => p.waits === 0)).toBe(true);
      }
      // Nothing happened in the children since the last read: none of them is written.
      await sleep(200);
      const idle = await reader.read();
      expect(idle.procs.filter((p) => kids.has(p.pid))).toEqual([]);
      // And the next round is counted from where the last one left off.
      await round(w, 4);
      const d = await reader.read();
      expect(d.procs.filter((p) => kids.has(p.pid)).reduce((s, p) => s + p.wakes, 0)).toBe(N);
      if (iterator) expect(reader.helperPids()).toEqual([]);
    } finally {
      reader.close();
    }
  }, 120_000);
});
