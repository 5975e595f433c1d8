/** `tuner cleanup`: remove pins left by tuner processes that are gone (a kill -9, a crash). */
import { listPins, removeStalePins } from '../loader/stale.js';
import type { CommandSpec } from './spec.js';

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

export const command: CommandSpec<void, CleanupResult> = {
  options: () => undefined,
  run: cleanup,
  output: {
    indent: 2,
    async view() {
      return (result) => {
        const out: string[] = [];
        for (const r of result.removed) out.push(`removed ${r.dir} (pid ${r.pid} is gone)\n`);
        for (const r of result.live) out.push(`kept ${r.dir} (pid ${r.pid} is running)\n`);
        if (result.removed.length === 0) out.push('nothing to clean up\n');
        return out.join('');
      };
    },
  },
};
