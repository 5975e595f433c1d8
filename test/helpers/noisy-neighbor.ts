/**
 * The noisy-neighbor scene of the recipe kernel tests: a parent test cgroup
 * on the v1 cpu hierarchy with a "hog" (cpu.shares 262144, 256 times the
 * default: misconfigured) running CPU burners (one more than the CPUs, at least three) and a "victim" running a
 * duty-cycle worker that wants 40% of a CPU; a journal directory of its own.
 * `cleanup()` (an afterEach) stops, removes and checks that nothing is left.
 */
import os from 'node:os';
import { expect } from 'vitest';
import { leftoverCgroups, makeCgroup, type TestCgroup, type TestCgroupTree } from './cgroups.js';
import { leftoverPins } from './kernel.js';
import { tuner } from './cli.js';
import { journalDir, stopTuners } from './tuner-run.js';
import { start, type Running } from './workloads.js';

export const CPU = '/sys/fs/cgroup/cpu';
export const RECIPE = new URL('../../recipes/noisy-neighbor.yaml', import.meta.url).pathname;

export interface NoisyNeighbor {
  parent: TestCgroupTree;
  hog: TestCgroup;
  victim: TestCgroup;
  burn: Running;
  duty: Running;
  journal: ReturnType<typeof journalDir>;
  /** TUNER_JOURNAL_DIR pointing at the scene's journal. */
  env: Record<string, string>;
}

const running: Running[] = [];
const cgroups: TestCgroupTree[] = [];
const journals: Array<ReturnType<typeof journalDir>> = [];

export async function noisyNeighbor(): Promise<NoisyNeighbor> {
  const parent = makeCgroup(CPU);
  cgroups.push(parent);
  const hog = parent.child('hog');
  const victim = parent.child('victim');
  hog.write('cpu.shares', '262144');
  // More burners than CPUs (three on two), so that the victim waits for a CPU on a host of any size.
  const burn = await start('spin', [Math.max(3, os.availableParallelism() + 1), 0]);
  const duty = await start('duty', [40, 10, 0]);
  running.push(burn, duty);
  hog.add(burn.pid);
  victim.add(duty.pid);
  const journal = journalDir();
  journals.push(journal);
  return { parent, hog, victim, burn, duty, journal, env: { TUNER_JOURNAL_DIR: journal.dir } };
}

export async function cleanup(): Promise<void> {
  // A test that failed half-way can leave its tuner running, or killed with its pins and journal:
  // end it and revert what it left before judging, so one failure does not fail every later test.
  const stillRunning = await stopTuners();
  const pins = leftoverPins();
  if (pins.length > 0) for (const j of journals) await tuner(['revert'], { env: { TUNER_JOURNAL_DIR: j.dir }, reject: false });
  for (const r of running.splice(0)) await r.stop();
  for (const c of cgroups.splice(0)) c.remove();
  for (const j of journals.splice(0)) j.remove();
  expect(stillRunning, 'tuner runs the test left running').toBe(0);
  expect(pins).toEqual([]);
  expect(leftoverCgroups([CPU, '/sys/fs/cgroup/unified'])).toEqual([]);
}
