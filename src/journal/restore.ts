/**
 * Putting knobs back from journal entries: write the original only when the
 * knob still holds a value tuner wrote. A knob someone else changed since is
 * left alone (tuner yields), a knob whose object is gone is skipped. Hooks
 * are always called back to their original level (a hook has no state to
 * read). Async form with write timeouts; sync form for the exit path.
 */
import { rmSync } from 'node:fs';
import { KnobGone, knobLabel, type KnobIo } from '../knobs/knob.js';
import { messageOf } from '../errors.js';
import { listJournals, journalDir, type JournalEntry } from './journal.js';
import { cgroupMounts, knobRefusal } from '../knobs/allowed.js';
import { hookRefusal } from './hooks.js';
import type { Recipe } from '../recipes/recipe.js';

/**
 * restored: back at its original; unchanged: it already was; yielded: someone
 * else changed it since (theirs now); gone: its object no longer exists;
 * failed: the write did not happen; refused: the journal asked for something
 * tuner's actions never do (a path outside their knobs, a hook no trusted
 * recipe declares), so it was not touched.
 */
export type RestoreResult = 'restored' | 'unchanged' | 'yielded' | 'gone' | 'failed' | 'refused';

export interface RestoreOutcome {
  knob: string;
  recipe: string;
  action: string;
  target: string;
  original: string;
  /** What the knob held before restoring. */
  found?: string;
  result: RestoreResult;
  detail?: string;
}

function decide(e: JournalEntry, current: string): 'write' | 'unchanged' | 'yielded' {
  if (e.knob.kind === 'hook') return 'write';
  if (current === e.original) return 'unchanged';
  return e.written.includes(current) ? 'write' : 'yielded';
}

const base = (e: JournalEntry): Omit<RestoreOutcome, 'result'> => ({
  knob: knobLabel(e.knob),
  recipe: e.recipe,
  action: e.action,
  target: e.target,
  original: e.original,
});

export async function restoreEntry(io: KnobIo, e: JournalEntry): Promise<RestoreOutcome> {
  try {
    const found = await io.read(e.knob);
    const d = decide(e, found);
    if (d !== 'write')
      return {
        ...base(e),
        found,
        result: d,
        ...(d === 'yielded' ? { detail: `changed by someone else since tuner set it (${e.written.join(', ')})` } : {}),
      };
    await io.write(e.knob, e.original);
    return { ...base(e), found, result: 'restored' };
  } catch (err) {
    return err instanceof KnobGone
      ? { ...base(e), result: 'gone', detail: err.message }
      : { ...base(e), result: 'failed', detail: messageOf(err) };
  }
}

export function restoreEntrySync(io: KnobIo, e: JournalEntry): RestoreOutcome {
  try {
    const found = io.readSync(e.knob);
    const d = decide(e, found);
    if (d !== 'write') return { ...base(e), found, result: d };
    io.writeSync(e.knob, e.original);
    return { ...base(e), found, result: 'restored' };
  } catch (err) {
    return err instanceof KnobGone
      ? { ...base(e), result: 'gone', detail: err.message }
      : { ...base(e), result: 'failed', detail: messageOf(err) };
  }
}

export interface StaleRestore {
  journal: string;
  owner: { pid: number; start: number } | undefined;
  outcomes: RestoreOutcome[];
  /** The journal file was removed (nothing failed or was refused). */
  removed: boolean;
  error?: string;
  /** The whole journal was refused (who could write it, or not a journal): nothing in it was applied. */
  refused?: boolean;
}

/** Why revert must not act on this entry (a knob outside tuner's places, an unverifiable hook), or undefined. */
export function entryRefusal(
  e: JournalEntry,
  ctx: { mounts?: ReturnType<typeof cgroupMounts>; recipes?: Map<string, Recipe | string> } = {},
): string | undefined {
  return knobRefusal(e.knob, (ctx.mounts ??= cgroupMounts())) ?? hookRefusal(e, (ctx.recipes ??= new Map()));
}

/**
 * Restore every journal whose owner is gone (kill -9, crash), newest change
 * first; remove each journal once nothing in it failed. Journals of running
 * tuners are returned in `live`, untouched.
 */
export async function restoreStale(io: KnobIo, dir = journalDir()): Promise<{ restored: StaleRestore[]; live: string[] }> {
  const restored: StaleRestore[] = [];
  const live: string[] = [];
  for (const j of listJournals(dir)) {
    if (j.alive) {
      live.push(j.file);
      continue;
    }
    if (!j.data) {
      restored.push({
        journal: j.file,
        owner: undefined,
        outcomes: [],
        removed: false,
        error: j.error,
        ...(j.refused ? { refused: true } : {}),
      });
      continue;
    }
    const outcomes: RestoreOutcome[] = [];
    const ctx = {};
    for (const e of [...j.data.entries].reverse()) {
      const why = entryRefusal(e, ctx);
      outcomes.push(why ? { ...base(e), result: 'refused', detail: why } : await restoreEntry(io, e));
    }
    const removed = outcomes.every((o) => o.result !== 'failed' && o.result !== 'refused');
    if (removed) rmSync(j.file, { force: true });
    restored.push({ journal: j.file, owner: j.data.owner, outcomes, removed });
  }
  return { restored, live };
}
