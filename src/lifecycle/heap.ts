/**
 * The long-running modes (`run --watch`, `watch`, `agent`) bound the old
 * generation of V8's heap: when it has grown by more than a megabyte since
 * the last full collection, they run one, between windows.
 *
 * Why: a window's objects that live a few seconds (readings kept for the
 * next delta, pending knob reads, events on their way out) survive two
 * young-generation collections on a process that allocates slowly, and V8
 * promotes them. V8 itself starts a full collection only when the old
 * generation reaches a limit set many megabytes above the live data, which
 * at this allocation rate takes well over an hour: resident memory crept up
 * by about 300 KB a minute with the live data flat. A full collection of
 * this heap (about 11 MB live) takes 20 to 60 ms; at that rate one is due
 * every few minutes, a small fraction of a percent of one CPU.
 *
 * The collection is V8's own `gc` (the flag that exposes it, set at run time,
 * and the function taken from a fresh context, where the flag applies): Node
 * has no other call for a full collection.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How often the old generation is looked at. */
export const CHECK_EVERY_MS = 30_000;
/** Growth of the old generation's used bytes since the last full collection that makes the next one due. */
export const GROWTH_BYTES = 1024 * 1024;

/** The commands (arguments after `node cli.js`) that run until stopped. */
export function runsUntilStopped(args: readonly string[]): boolean {
  const [cmd] = args;
  return cmd === 'agent' || cmd === 'watch' || (cmd === 'run' && args.includes('--watch'));
}

/** Bytes in use in the old generation (V8's `old_space`). */
export function oldGenerationUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
}

/** Whether a full collection is due: the old generation grew by more than `growth` since the last one. */
export function collectionDue(usedNow: number, usedAfterLast: number, growth = GROWTH_BYTES): boolean {
  return usedNow - usedAfterLast > growth;
}

/** A full garbage collection, synchronous. */
export function fullCollection(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Look at the old generation every `everyMs` and collect when it grew by
 * more than `growth`. The timer never keeps the process alive. Returns the
 * function that stops it, and the count of collections so far.
 */
export function boundOldGeneration(o: { everyMs?: number; growth?: number } = {}): { stop(): void; collections(): number } {
  let gc: (() => void) | undefined;
  let base = oldGenerationUsed();
  let n = 0;
  const timer = setInterval(() => {
    if (!collectionDue(oldGenerationUsed(), base, o.growth)) return;
    gc ??= fullCollection();
    gc();
    n++;
    base = oldGenerationUsed();
  }, o.everyMs ?? CHECK_EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer), collections: () => n };
}
