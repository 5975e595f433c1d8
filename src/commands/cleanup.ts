/** `tuner cleanup`: remove pins left by tuner processes that are gone (a kill -9, a crash). */
import { listPins, removeStalePins } from '../loader/stale.js';

export interface CleanupResult {
  removed: Array<{ dir: string; pid: number; object: string }>;
  /** Pins of tuner processes still running: left alone. */
  live: Array<{ dir: string; pid: number; object: string }>;
}

export async function cleanup(): Promise<CleanupResult> {
  const removed = removeStalePins().map(({ dir, pid, object }) => ({ dir, pid, object }));
  const live = listPins()
    .filter((p) => p.alive)
    .map(({ dir, pid, object }) => ({ dir, pid, object }));
  return { removed, live };
}
