/** Parsers for compare's and record's flags; each throws a UsageError naming the flag. */
import { UsageError } from '../errors.js';

/** "10%" -> 0.1. A bare number is refused: 0.1 and 10 would both be guesses. */
export function parsePercent(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(String(text));
  if (!m) throw new UsageError(`${what}: expected a percentage like 10%, got ${JSON.stringify(text)}`);
  const v = Number(m[1]) / 100;
  if (!(v > 0 && v <= 10)) throw new UsageError(`${what}: expected a percentage above 0% and at most 1000%, got ${JSON.stringify(text)}`);
  return v;
}

/** A significance level: a probability in (0, 0.5]. */
export function parseAlpha(text: string, what = '--alpha'): number {
  const v = Number(text);
  if (!/^\s*(0?\.\d+|0|1)\s*$/.test(String(text)) || !(v > 0 && v <= 0.5)) {
    throw new UsageError(`${what}: expected a probability above 0 and at most 0.5, like 0.05, got ${JSON.stringify(text)}`);
  }
  return v;
}

/** A whole number from 0 (e.g. --warmup 0). */
export function parseCount(text: string, what: string, max = 10_000): number {
  if (!/^\s*\d+\s*$/.test(String(text)) || Number(text) > max) {
    throw new UsageError(`${what}: expected a whole number from 0 to ${max}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}
