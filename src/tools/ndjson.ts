/**
 * NDJSON lines from a stream (bpftrace -f json, tuner's own feeds). Node's
 * readline does the splitting; each line goes through parseJson (64-bit
 * safe). Bad lines are counted and handed to `onBad`, never skipped in
 * silence. (The `ndjson` package would add a through2 stream stack and has
 * not been released since 2020; readline is part of Node.)
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseJson } from './json.js';

export interface NdjsonStats {
  lines: number;
  bad: number;
}

export function readNdjson(
  input: Readable,
  onValue: (value: unknown) => void,
  onBad: (line: string, err: Error) => void = () => {},
): { stats: NdjsonStats; done: Promise<void> } {
  const stats: NdjsonStats = { lines: 0, bad: 0 };
  const rl = createInterface({ input, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    stats.lines++;
    let value: unknown;
    try {
      value = parseJson(line);
    } catch (err) {
      stats.bad++;
      onBad(line, err as Error);
      return;
    }
    onValue(value);
  });
  const done = new Promise<void>((resolve) => rl.once('close', resolve));
  return { stats, done };
}
