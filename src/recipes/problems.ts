/**
 * Problems found in a recipe: where (file, line, dotted path), what was
 * expected and what was found. Errors stop everything (exit 2, nothing
 * applied); warnings are printed and the recipe still runs.
 */
import { UsageError } from '../errors.js';

export type PathSeg = string | number;

export interface Problem {
  severity: 'error' | 'warning';
  path: PathSeg[];
  expected: string;
  found: string;
  /** Point at the key itself rather than its value (unknown keys). */
  atKey?: boolean;
  line?: number;
}

/** ["actions", 0, "bounds", "min"] -> "actions[0].bounds.min". */
export function dotted(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out || '(top level)';
}

/** A value as a person would describe it: `-1 (number)`, `"abc" (string)`, `a list of 2`. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `${JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v)} (string)`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${String(v)} (${typeof v})`;
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length}`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as object);
    return keys.length === 0 ? 'an empty mapping' : `a mapping with ${keys.slice(0, 4).join(', ')}${keys.length > 4 ? ', ...' : ''}`;
  }
  return String(v);
}

export function error(path: PathSeg[], expected: string, found: string, atKey = false): Problem {
  return { severity: 'error', path, expected, found, ...(atKey ? { atKey } : {}) };
}

export function warning(path: PathSeg[], expected: string, found: string): Problem {
  return { severity: 'warning', path, expected, found };
}

export function formatProblem(file: string, p: Problem): string {
  const where = `recipe ${JSON.stringify(file)}${p.line !== undefined ? `, line ${p.line}` : ''}`;
  const path = p.path.length > 0 ? `${dotted(p.path)}: ` : '';
  const tag = p.severity === 'warning' ? 'warning: ' : '';
  return `${where}: ${tag}${path}expected ${p.expected}, got ${p.found}`;
}

/** Bad recipes: every problem of every file, one per line. Exit code 2. */
export class RecipeError extends UsageError {
  constructor(readonly problems: Array<{ file: string; problem: Problem }>) {
    super(problems.map((x) => formatProblem(x.file, x.problem)).join('\n'));
  }
}

/** Levenshtein distance, for "did you mean" on unknown keys. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

export function closest(word: string, choices: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of choices) {
    const dd = editDistance(word, c);
    if (dd < bestD) [best, bestD] = [c, dd];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
