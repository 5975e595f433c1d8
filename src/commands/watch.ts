/**
 * `tuner watch <signal>|all`: records, one per signal per interval, as an
 * async generator. Input is validated before anything is loaded; sources are
 * closed (programs detached, pins removed) however the loop ends.
 */
import { UsageError } from '../errors.js';
import { ticks } from '../lifecycle/sleep.js';
import { resolveScope } from '../scope/resolve.js';
import type { BackendChoice } from '../signals/backend.js';
import { openSignals, SIGNALS, type AnyRecord, type OpenedSignals, type Outliers, type SignalName } from '../signals/open.js';
import { signalsWith } from '../signals/registry.js';

export const WATCH_SIGNALS = [...SIGNALS, 'all'] as const;
export type WatchSignal = (typeof WATCH_SIGNALS)[number];


export interface WatchOptions {
  intervalMs: number;
  count?: number;
  durationMs?: number;
  pids?: number[];
  /** A --cgroup argument (absolute, or relative to the cgroup root). */
  cgroup?: string;
  top: number;
  backend: BackendChoice;
  /** Stops the watch (Ctrl-C); the generator returns after closing its sources. */
  signal?: AbortSignal;
  outliers?: Outliers;
  /** Where warnings about optional hooks go (once each). */
  warn?: (message: string) => void;
}

export function signalsOf(which: WatchSignal): SignalName[] {
  // `all`: the core signals (numa, net and the event feed are asked for by name).
  return which === 'all' ? signalsWith('inAll') : [which];
}

export async function* watch(which: WatchSignal, opts: WatchOptions): AsyncGenerator<AnyRecord> {
  if (opts.intervalMs < 10) throw new UsageError(`--interval: expected at least 10ms, got ${opts.intervalMs}ms`);
  const scope = resolveScope(opts);
  let opened: OpenedSignals | undefined;
  try {
    opened = await openSignals(signalsOf(which), scope, opts);
    const { sources, producers } = opened;
    const selfTimed = sources.length === 1 && sources[0]!.selfTimed;
    if (selfTimed) {
      // bpftrace keeps its own interval: read as it delivers.
      const end = opts.durationMs === undefined ? Infinity : Date.now() + opts.durationMs;
      for (let k = 1; opts.count === undefined || k <= opts.count; k++) {
        const rec = (await untilAborted(sources[0]!.next(), opts.signal)) as AnyRecord | undefined;
        if (rec === undefined) return;
        yield rec;
        if (Date.now() >= end - opts.intervalMs / 2) return;
      }
      return;
    }
    for await (const _ of ticks(opts)) {
      for (const p of producers) await p.next();
      for (const s of sources) yield (await s.next()) as AnyRecord;
    }
  } finally {
    opened?.close();
  }
}

function untilAborted<T>(p: Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
  if (!signal) return p;
  if (signal.aborted) return Promise.resolve(undefined);
  return Promise.race([p, new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }))]);
}
