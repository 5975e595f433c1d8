/**
 * `tuner watch <signal>|all`: records, one per signal per interval, as an
 * async generator. Input is validated before anything is loaded; sources are
 * closed (programs detached, pins removed) however the loop ends.
 */
import { UsageError } from '../errors.js';
import { stopSignal } from '../lifecycle/exit.js';
import { parseChoice, parseDuration, parsePids, parsePositiveInt } from '../options/parse.js';
import type { CommandSpec } from './spec.js';
import { ticks } from '../lifecycle/sleep.js';
import { resolveScope } from '../scope/resolve.js';
import { BACKENDS, type BackendChoice } from '../signals/backend.js';
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

/** An outlier threshold in ns: a duration, or "off". */
function parseThreshold(text: string, what: string): number {
  return text === 'off' ? 0 : parseDuration(text, what) * 1e6;
}

interface WatchFlags {
  interval: string;
  count?: string;
  duration?: string;
  pid?: string[];
  cgroup?: string;
  top: string;
  backend: string;
  runqOutlier: string;
  futexOutlier: string;
  ioOutlier: string;
}

export const command: CommandSpec<WatchOptions & { which: WatchSignal }, AnyRecord> = {
  options([signal], flags) {
    const f = flags as unknown as WatchFlags;
    return {
      which: parseChoice(String(signal), WATCH_SIGNALS, 'watch <signal>'),
      intervalMs: parseDuration(f.interval, '--interval'),
      count: f.count === undefined ? undefined : parsePositiveInt(f.count, '--count'),
      durationMs: f.duration === undefined ? undefined : parseDuration(f.duration, '--duration'),
      pids: f.pid === undefined ? undefined : parsePids(f.pid),
      cgroup: f.cgroup,
      top: parsePositiveInt(f.top, '--top', 100_000),
      backend: parseChoice(f.backend, BACKENDS, '--backend'),
      signal: stopSignal,
      outliers: {
        runqNs: parseThreshold(f.runqOutlier, '--runq-outlier'),
        futexNs: parseThreshold(f.futexOutlier, '--futex-outlier'),
        ioNs: parseThreshold(f.ioOutlier, '--io-outlier'),
      },
      warn: (m: string) => process.stderr.write(`tuner: warning: ${m}\n`),
    };
  },
  run: (o) => watch(o.which, o),
  output: {
    live: true,
    /** One screen per interval: every signal's record of the interval, in order. */
    async view(o) {
      const signals = signalsOf(o.which);
      const render = await (await import('../output/views.js')).loadViews(signals);
      let batch: AnyRecord[] = [];
      return (r) => {
        batch.push(r);
        if (batch.length < signals.length) return undefined;
        const text = render(batch);
        batch = [];
        return text;
      };
    },
  },
};
