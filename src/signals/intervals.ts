/**
 * The interval loop shared by every command that samples a reader: one delta
 * per interval until `count`, `durationMs` or abort. Pull readers are read on
 * a drift-free clock; self-timed readers (bpftrace) are read as they deliver.
 */
import { ticks } from '../lifecycle/sleep.js';
import type { SignalReader } from './sched.js';

export interface IntervalOptions {
  intervalMs: number;
  count?: number;
  durationMs?: number;
  signal?: AbortSignal;
}

export async function* intervals<D>(reader: SignalReader<D>, opts: IntervalOptions): AsyncGenerator<D> {
  if (!reader.selfTimed) {
    for await (const _ of ticks(opts)) yield await reader.read();
    return;
  }
  const end = opts.durationMs === undefined ? Infinity : Date.now() + opts.durationMs;
  for (let k = 1; opts.count === undefined || k <= opts.count; k++) {
    const aborted = new Promise<undefined>((resolve) => {
      if (opts.signal?.aborted) resolve(undefined);
      opts.signal?.addEventListener('abort', () => resolve(undefined), { once: true });
    });
    const d = await Promise.race([reader.read(), aborted]);
    if (d === undefined) return;
    yield d;
    if (Date.now() >= end - opts.intervalMs / 2) return;
  }
}
