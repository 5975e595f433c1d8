/**
 * What the learner learned, per host, recipe, action and target: its arms
 * and the knob's original value (levels count steps from it, so a changed
 * original starts cold). One JSON file, /var/lib/tuner/learned.json
 * (TUNER_LEARNED_FILE overrides it), read like any input: a file that is not
 * a regular file, not owned by root (by the user, when not root), or
 * writable by group or others, or whose content does not parse, is ignored
 * with a warning and the learner starts cold. Written atomically (a
 * temporary file renamed over it), mode 0600.
 */
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { Arms } from './arms.js';

const armSchema = z.strictObject({
  n: z.int().min(0),
  mean: z.number(),
  m2: z.number().min(0),
  violations: z.int().min(0),
});

const entrySchema = z.strictObject({
  original: z.string(),
  arms: z.record(z.string().regex(/^\d{1,4}$/), armSchema),
  updated: z.string(),
});

const fileSchema = z.strictObject({
  version: z.literal(1),
  entries: z.record(z.string(), entrySchema),
});

type StoreFile = z.infer<typeof fileSchema>;

export interface LearnedEntry {
  original: string;
  arms: Arms;
}

export function learnedFile(): string {
  return process.env.TUNER_LEARNED_FILE ?? '/var/lib/tuner/learned.json';
}

export function entryKey(recipe: string, action: number, target: string): string {
  return `${hostname()}/${recipe}/${action}/${target}`;
}

/** Why the file may not be trusted, or undefined. */
function distrust(file: string): string | undefined {
  const st = lstatSync(file);
  if (!st.isFile()) return 'it is not a regular file';
  const uid = process.getuid?.() ?? 0;
  if (st.uid !== uid) return `it is owned by uid ${st.uid}, not ${uid === 0 ? 'root' : `uid ${uid}`}`;
  if ((st.mode & 0o022) !== 0)
    return `it is writable by ${st.mode & 0o020 ? 'its group' : 'others'} (mode ${(st.mode & 0o777).toString(8)})`;
  return undefined;
}

export class LearnedStore {
  constructor(readonly file: string = learnedFile()) {}

  /** The entry for a key; `warning` says why the file was ignored. */
  load(key: string): { entry?: LearnedEntry; warning?: string } {
    let text: string;
    try {
      const why = distrust(this.file);
      if (why) return { warning: `ignoring ${this.file} (${why}): the learner starts cold` };
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      return { warning: `cannot read ${this.file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): the learner starts cold` };
    }
    const data = this.parse(text);
    if (typeof data === 'string') return { warning: `ignoring ${this.file}: ${data}: the learner starts cold` };
    const e = data.entries[key];
    if (!e) return {};
    return { entry: { original: e.original, arms: new Map(Object.entries(e.arms).map(([l, a]) => [Number(l), { ...a }])) } };
  }

  private parse(text: string): StoreFile | string {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return 'not JSON';
    }
    const r = fileSchema.safeParse(raw);
    if (!r.success) {
      const i = r.error.issues[0]!;
      return `${i.path.join('.') || 'the file'}: ${i.message}`;
    }
    return r.data;
  }

  /** Merge one entry into the file (other entries kept when the file is trusted and valid). */
  save(key: string, entry: LearnedEntry): void {
    let data: StoreFile = { version: 1, entries: {} };
    try {
      if (!distrust(this.file)) {
        const d = this.parse(readFileSync(this.file, 'utf8'));
        if (typeof d !== 'string') data = d;
      }
    } catch {
      // missing or unreadable: start a new file
    }
    data.entries[key] = {
      original: entry.original,
      arms: Object.fromEntries([...entry.arms].map(([l, a]) => [String(l), { ...a }])),
      updated: new Date().toISOString(),
    };
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data, null, 1) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }
}
