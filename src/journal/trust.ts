/**
 * A journal is input that tuner obeys as root, so it is read only from a
 * place no one else could have written: the directory and the file must be
 * owned by the user tuner runs as (root) and writable by no group or others,
 * the file must be a regular file reached without a symbolic link, and its
 * content must be a journal as tuner writes them (a schema, checked before
 * any of it is used).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { z } from 'zod';
import { knobId, type KnobRef } from '../knobs/knob.js';
import type { JournalData } from './journal.js';
import { TunerError } from '../errors.js';

const octal = (mode: number): string => '0' + (mode & 0o7777).toString(8);
const euid = (): number => process.geteuid?.() ?? 0;
const who = (uid: number): string => (uid === 0 ? 'root' : `uid ${uid}`);

/** Why files of this owner and mode must not be trusted, or undefined when they may. */
function ownershipRefusal(st: Stats): string | undefined {
  if (st.uid !== euid()) return `it is owned by ${who(st.uid)}, not by ${who(euid())} (the user tuner runs as)`;
  if (st.mode & 0o022) {
    const by = [st.mode & 0o020 ? 'group' : '', st.mode & 0o002 ? 'others' : ''].filter(Boolean).join(' and ');
    return `it is writable by ${by} (mode ${octal(st.mode)})`;
  }
  return undefined;
}

/** Why the journal directory must not be trusted, or undefined when it may (or does not exist: nothing to read). */
export function journalDirRefusal(dir: string): string | undefined {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch {
    return undefined;
  }
  if (st.isSymbolicLink()) return 'it is a symbolic link';
  if (!st.isDirectory()) return 'it is not a directory';
  return ownershipRefusal(st);
}

/** A journal tuner will not read or write: the reason names what is wrong and why it matters. */
export class JournalRefused extends TunerError {}

/** Read a journal file: no symbolic link, a regular file of tuner's user that no one else can write. */
export function readTrusted(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new JournalRefused('it is a symbolic link');
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new JournalRefused('it is not a regular file');
    const why = ownershipRefusal(st);
    if (why) throw new JournalRefused(why);
    if (st.size > 16 << 20) throw new JournalRefused(`it is ${st.size} bytes, far more than a journal holds`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

const int = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const pid = z.number().int().positive().max(4194304);
/** A knob value as read from the kernel (normalized: one line). */
const value = z
  .string()
  .max(4096)
  .regex(/^[^\0\n]*$/, 'one line without NUL');

const knob = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('file'), path: z.string().min(1).max(4096) }),
  z.strictObject({ kind: z.literal('affinity'), pid, tid: pid, start: int }),
  z.strictObject({ kind: z.literal('pages'), pid, start: int }),
  z.strictObject({
    kind: z.literal('hook'),
    id: z.string().max(4096),
    argv: z.array(z.string().max(4096)).min(1).max(256),
    timeoutMs: int.max(3_600_000),
  }),
]);

const entry = z.strictObject({
  id: z.string(),
  knob,
  original: value,
  written: z.array(value).max(10_000),
  recipe: z.string().max(256),
  recipe_file: z.string().max(4096).optional(),
  action: z.string().max(256),
  target: z.string().max(4096),
  since: z.string().max(64),
});

const journal = z.strictObject({
  version: z.literal(1),
  owner: z.strictObject({ pid, start: int }),
  created: z.string().max(64),
  entries: z.array(entry).max(100_000),
});

/** Parse a journal's text; throws JournalRefused naming the first field that is wrong. */
export function parseJournal(text: string): JournalData {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new JournalRefused(`not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const r = journal.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const at = i.path.length > 0 ? i.path.join('.') : '(top level)';
    throw new JournalRefused(`not a tuner journal (version 1): ${at}: ${i.message}`);
  }
  r.data.entries.forEach((e, n) => {
    if (e.id !== knobId(e.knob as KnobRef))
      throw new JournalRefused(`not a tuner journal: entries.${n}.id ${JSON.stringify(e.id)} does not name its knob`);
  });
  return r.data as JournalData;
}
