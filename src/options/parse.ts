/**
 * Parsers for command-line values. Each throws a UsageError that names the
 * flag, what was expected and what was found.
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../errors.js';

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "1s", "250ms", "1.5m" -> milliseconds. A bare number is refused: its unit would be a guess. */
export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h)\s*$/.exec(String(text));
  if (!m) throw new UsageError(`${what}: expected a duration like 1s, 500ms or 2m, got ${JSON.stringify(text)}`);
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (!(ms > 0)) throw new UsageError(`${what}: expected a positive duration, got ${JSON.stringify(text)}`);
  return ms;
}

export function parsePositiveInt(text: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\s*\d+\s*$/.test(String(text))) throw new UsageError(`${what}: expected a positive whole number, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < 1 || n > max) throw new UsageError(`${what}: expected a whole number from 1 to ${max}, got ${n}`);
  return n;
}

/** Comma- or space-separated PIDs of running processes, deduplicated, in the order given. */
export function parsePids(values: readonly string[], what = '--pid'): number[] {
  const out: number[] = [];
  for (const v of values.flatMap((s) => String(s).split(/[\s,]+/)).filter(Boolean)) {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 4_194_304) {
      throw new UsageError(`${what}: expected a process ID (a whole number from 1 to 4194304), got ${JSON.stringify(v)}`);
    }
    const pid = Number(v);
    if (!existsSync(`/proc/${pid}`)) throw new UsageError(`${what} ${pid}: no such process`);
    if (!out.includes(pid)) out.push(pid);
  }
  if (out.length === 0) throw new UsageError(`${what}: expected at least one process ID`);
  return out;
}

export function parseChoice<T extends string>(text: string, choices: readonly T[], what: string): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`${what}: expected one of ${choices.join(', ')}, got ${JSON.stringify(text)}`);
}
