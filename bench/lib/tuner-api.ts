/**
 * tuner's own library, as built in dist/, for measurements that must time
 * one call (the scale phase times the scheduler reader's read()). Loaded at
 * run time after the pin root is set, so its pins go under the benchmark's.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST } from './paths.js';

type SchedModule = typeof import('../../dist/signals/sched/bpf.js');
export type SchedReader = Awaited<ReturnType<SchedModule['openSchedBpf']>>;
export type SchedReadSteps = NonNullable<ReturnType<SchedReader['lastSteps']>>;

/** Open the CO-RE scheduler reader on every task of the host, as `tuner watch sched` does. */
export async function openSchedReader(pinRoot: string): Promise<SchedReader> {
  process.env.TUNER_PIN_ROOT = pinRoot;
  const mod = (await import(pathToFileURL(path.join(DIST, 'signals', 'sched', 'bpf.js')).href)) as SchedModule;
  return mod.openSchedBpf({});
}
