/**
 * The crash-safe journal: before tuner changes a knob it records the knob's
 * original value (and every value it is about to write) in a file of its
 * own, written to a temporary file, fsynced, renamed over the old one and
 * the directory fsynced. Only then does the knob change. After a kill -9
 * the file names the owner (PID and start time), so `tuner revert` and the
 * next `tuner run` can tell it from the journal of a tuner still running.
 * The directory is TUNER_JOURNAL_DIR (tests), else /var/lib/tuner/journal.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { knobId, type KnobRef } from '../knobs/knob.js';
import { ownerAlive, selfOwner, type Owner } from '../loader/owner.js';

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
  } finally {
    closeSync(fd);
  }
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
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    writeDurably(this.file, JSON.stringify(this.data, null, 1) + '\n');
  }

  entries(): readonly JournalEntry[] {
    return this.data.entries;
  }

  /** Before writing `intended` to a knob: remember its original (first time) and the value. Durable on return. */
  record(knob: KnobRef, original: string, intended: string, meta: { recipe: string; action: string; target: string }): void {
    const id = knobId(knob);
    let e = this.data.entries.find((x) => x.id === id);
    if (!e) {
      e = { id, knob, original, written: [], ...meta, since: new Date().toISOString() };
      this.data.entries.push(e);
    }
    if (!e.written.includes(intended)) e.written.push(intended);
    this.persist();
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
    if (this.data.entries.length !== before) this.persist();
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
}

/** Every journal in the directory. */
export function listJournals(dir = journalDir()): JournalFileInfo[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: JournalFileInfo[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = path.join(dir, name);
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as JournalData;
      if (data.version !== 1 || !Array.isArray(data.entries)) throw new Error('not a tuner journal (version 1)');
      out.push({ file, data, alive: ownerAlive(data.owner) });
    } catch (err) {
      out.push({ file, alive: false, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}
