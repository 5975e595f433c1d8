/**
 * `tuner revert`: after a tuner was killed (kill -9, a crash), put back every
 * knob its journal holds, and remove the BPF pins it left. Journals of
 * tuners still running are left alone (they revert their own). The exit
 * code tells whether anything tuner changed is still changed.
 */
import { restoreStale, type RestoreResult, type StaleRestore } from '../journal/restore.js';
import { journalDir } from '../journal/journal.js';
import { RealIo } from '../knobs/real-io.js';
import { removeStalePins } from '../loader/stale.js';
import { line, type CommandSpec } from './spec.js';

export interface RevertResult {
  journalDir: string;
  journals: StaleRestore[];
  /** Journals of running tuners, untouched. */
  live: string[];
  pins: string[];
  /** How many knobs ended in each result. */
  counts: Record<RestoreResult, number>;
  /** Every journal restored cleanly. */
  ok: boolean;
  /**
   * 0: every knob is back at its original, gone, or changed since by someone
   * else (theirs now); 1: a knob could not be put back (a write failed) or a
   * journal could not be read; 2: a journal, or a knob in one, was refused
   * (who could have written it, or what it asks for): nothing of it applied.
   */
  exitCode: 0 | 1 | 2;
}

export function revertExitCode(journals: readonly StaleRestore[]): 0 | 1 | 2 {
  const outcomes = journals.flatMap((j) => j.outcomes);
  if (outcomes.some((o) => o.result === 'failed') || journals.some((j) => j.error && !j.refused)) return 1;
  if (outcomes.some((o) => o.result === 'refused') || journals.some((j) => j.refused)) return 2;
  return 0;
}

export async function revert(): Promise<RevertResult> {
  const dir = journalDir();
  const { restored, live } = await restoreStale(new RealIo(), dir);
  const pins = removeStalePins().map((p) => p.dir);
  const counts: Record<RestoreResult, number> = { restored: 0, unchanged: 0, yielded: 0, gone: 0, failed: 0, refused: 0 };
  for (const j of restored) for (const o of j.outcomes) counts[o.result]++;
  const exitCode = revertExitCode(restored);
  return { journalDir: dir, journals: restored, live, pins, counts, ok: exitCode === 0, exitCode };
}

export const command: CommandSpec<void, RevertResult> = {
  options: () => undefined,
  run: revert,
  output: { indent: 2, view: async () => line((await import('../output/run-view.js')).renderRevert) },
  after: (r) => ({ exitCode: r.exitCode }),
};
