/**
 * `tuner revert`: after a tuner was killed (kill -9, a crash), put back every
 * knob its journal holds, and remove the BPF pins it left. Journals of
 * tuners still running are left alone (they revert their own).
 */
import { restoreStale, type StaleRestore } from '../journal/restore.js';
import { journalDir } from '../journal/journal.js';
import { RealIo } from '../knobs/real-io.js';
import { removeStalePins } from '../loader/stale.js';

export interface RevertResult {
  journalDir: string;
  journals: StaleRestore[];
  /** Journals of running tuners, untouched. */
  live: string[];
  pins: string[];
  /** Every journal restored cleanly. */
  ok: boolean;
}

export async function revert(): Promise<RevertResult> {
  const dir = journalDir();
  const { restored, live } = await restoreStale(new RealIo(), dir);
  const pins = removeStalePins().map((p) => p.dir);
  return { journalDir: dir, journals: restored, live, pins, ok: restored.every((j) => j.removed) };
}
