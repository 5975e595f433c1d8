/**
 * The crash-safe journal: before tuner changes a knob it records the knob's
 * original value (and every value it is about to write) in a file of its
 * own, written to a temporary file, fsynced, renamed over the old one and
 * the directory fsynced. Only then does the knob change. After a kill -9
 * the file names the owner (PID and start time), so `tuner revert` and the
 * next `tuner run` can tell it from the journal of a tuner still running.
 * The directory is TUNER_JOURNAL_DIR (tests), else /var/lib/tuner/journal.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { knobId, type KnobRef } from '../knobs/knob.js';
import { messageOf } from '../errors.js';
import { ownerAlive, selfOwner, type Owner } from '../loader/owner.js';
import { journalDirRefusal, JournalRefused, parseJournal, readTrusted } from './trust.js';

export function journalDir(): string {
  return process.env.TUNER_JOURNAL_DIR ?? '/var/lib/tuner/journal';
}

export interface JournalEntry {
  id: string;
  knob: KnobRef;
  /** The value before tuner first touched the knob. */
  original: string;
  /** Every value tuner wrote or was about to write (a crash may fall between the two). */
  written: string[];
  recipe: string;
  /** Absolute path of the recipe file: revert runs a hook only when that recipe still declares it. */
  recipe_file?: string;
  action: string;
  target: string;
  since: string;
}

export interface JournalData {
  version: 1;
  owner: Owner;
  created: string;
  entries: JournalEntry[];
}

/** Write a file so that a crash leaves either the old or the new content, never a mix. */
export function writeDurably(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true }); // a full disk must not leave half a journal behind
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
  const dir = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export class Journal {
  private data: JournalData;
  readonly file: string;

  private constructor(file: string, owner: Owner) {
    this.file = file;
    this.data = { version: 1, owner, created: new Date().toISOString(), entries: [] };
  }

  /** This process's journal (created on the first record). */
  static open(dir = journalDir(), owner: Owner = selfOwner()): Journal {
    return new Journal(path.join(dir, `${owner.pid}-${owner.start}.json`), owner);
  }

  private persist(): void {
    const dir = path.dirname(this.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A journal others could edit would be obeyed as root by the next revert: refuse to keep one there.
    const why = journalDirRefusal(dir);
    if (why) throw new JournalRefused(`journal directory ${dir}: ${why}; tuner changes nothing without a journal only root can write`);
    try {
      writeDurably(this.file, JSON.stringify(this.data, null, 1) + '\n');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? messageOf(err);
      throw new JournalRefused(
        `cannot write the journal ${this.file} (${code}${code === 'ENOSPC' ? ': no space left on its filesystem' : ''}): tuner changes nothing it cannot journal first`,
        { cause: err },
      );
    }
  }

  entries(): readonly JournalEntry[] {
    return this.data.entries;
  }

  /** Before writing `intended` to a knob: remember its original (first time) and the value. Durable on return. */
  record(
    knob: KnobRef,
    original: string,
    intended: string,
    meta: { recipe: string; recipeFile?: string; action: string; target: string },
  ): void {
    const id = knobId(knob);
    let e = this.data.entries.find((x) => x.id === id);
    const added = !e;
    if (!e) {
      const { recipeFile, ...rest } = meta;
      e = {
        id,
        knob,
        original,
        written: [],
        ...rest,
        ...(recipeFile ? { recipe_file: path.resolve(recipeFile) } : {}),
        since: new Date().toISOString(),
      };
      this.data.entries.push(e);
    }
    const fresh = !e.written.includes(intended);
    if (fresh) e.written.push(intended);
    try {
      this.persist();
    } catch (err) {
      // Not on disk, so not in memory either: the caller must not write the knob.
      if (added) this.data.entries.pop();
      else if (fresh) e.written.pop();
      throw err;
    }
  }

  /** After a write: the value the kernel actually kept, when it differs from the one written. */
  confirm(knob: KnobRef, actual: string): void {
    const e = this.data.entries.find((x) => x.id === knobId(knob));
    if (e && !e.written.includes(actual) && actual !== e.original) {
      e.written.push(actual);
      this.persist();
    }
  }

  /** The knob is back at its original, or no longer ours (yielded): drop it. */
  forget(knob: KnobRef): void {
    const id = knobId(knob);
    const before = this.data.entries.length;
    this.data.entries = this.data.entries.filter((x) => x.id !== id);
    if (this.data.entries.length === before) return;
    // A journal with nothing left to restore is not kept (a crash now must leave nothing for revert).
    if (this.data.entries.length === 0) rmSync(this.file, { force: true });
    else this.persist();
  }

  /** Remove the file when nothing is left in it. */
  close(): void {
    if (this.data.entries.length === 0) rmSync(this.file, { force: true });
  }
}

export interface JournalFileInfo {
  file: string;
  data?: JournalData;
  /** The owner still runs: its journal is not ours to restore. */
  alive: boolean;
  error?: string;
  /** Set when tuner will not obey this journal (or its directory): who could have written it, or what is wrong in it. */
  refused?: boolean;
}

/**
 * Every journal in the directory. A directory or file that someone other
 * than tuner's user could have written, and a file that is not a journal as
 * tuner writes them, comes back refused: nothing in it is obeyed.
 */
export function listJournals(dir = journalDir()): JournalFileInfo[] {
  const dirWhy = journalDirRefusal(dir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const files = names.filter((n) => n.endsWith('.json')).sort();
  if (dirWhy) {
    const error = `journal directory ${dir} refused: ${dirWhy}; whoever can write there could make tuner write any knob or run any command as root. Nothing in it was applied (fix: chown root and chmod go-w, after checking its files)`;
    return (files.length > 0 ? files : ['']).map((n) => ({ file: n ? path.join(dir, n) : dir, alive: false, refused: true, error }));
  }
  const out: JournalFileInfo[] = [];
  for (const name of files) {
    const file = path.join(dir, name);
    try {
      const data = parseJournal(readTrusted(file));
      out.push({ file, data, alive: ownerAlive(data.owner) });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      out.push(
        err instanceof JournalRefused
          ? { file, alive: false, refused: true, error: `journal ${file} refused: ${msg}. Nothing in it was applied` }
          : { file, alive: false, error: `journal ${file} unreadable: ${msg}` },
      );
    }
  }
  return out;
}
