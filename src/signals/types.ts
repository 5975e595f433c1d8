/**
 * What a signal is to the rest of tuner: one definition (src/signals/<name>/index.ts)
 * naming its backends, where it is used, and lazy loaders for its source,
 * view and `record` summary. Commands never name a signal's modules: they
 * read the table (registry.ts) and open signals through openSignals (open.ts).
 */
import type { Session } from '../loader/session.js';
import type { Scope } from '../scope/resolve.js';
import type { SignalSummary } from '../record/summary.js';
import type { SignalReader } from './reader.js';

/** Where a signal's numbers come from: CO-RE objects loaded with bpftool, a bpftrace script, or /proc and /sys. */
export type SourceBackend = 'bpf' | 'bpftrace' | 'procfs';

/** Outlier thresholds for the event feed, ns (0: none of that kind). */
export interface Outliers {
  runqNs: number;
  futexNs: number;
  ioNs: number;
}

/** One signal opened for a scope: a record per call of next(). */
export interface RecordSource<R = unknown> {
  readonly signal: string;
  readonly backend: SourceBackend;
  /** Why this backend was chosen (shown by --verbose output, doctor and warnings). */
  readonly reason: string;
  /** next() itself waits for the interval (bpftrace keeps its own clock). */
  readonly selfTimed?: boolean;
  /** The reader under the record builder: `record` reads its deltas raw for exact per-run totals. */
  readonly raw?: SignalReader<unknown>;
  /** The next interval's record (pull sources: since the previous call). */
  next(): Promise<R>;
  close(): void;
  helperPids(): number[];
}

/** What a signal's source module gets when it is opened. */
export interface SourceContext {
  scope: Scope;
  /** The backend chosen for this signal (see open.ts: pickBackend). */
  backend: SourceBackend;
  reason: string;
  intervalMs: number;
  /** Processes kept in per-process records (ignored with --pid). */
  top: number;
  /** Also observe processes the PID set forks (record, diagnose). */
  followChildren?: boolean;
  /** The shared maps of the CO-RE objects opened together (undefined: not a CO-RE backend). */
  session?: Session;
  /** Event thresholds; 0 unless the events signal is open. */
  outliers: Outliers;
  /** Warnings about optional hooks that could not be loaded. */
  warn: (message: string) => void;
  /** Sees each interval's delta before the record is built. */
  onDelta?: (signal: string, delta: unknown) => void;
}

/** A signal's source module (src/signals/<name>/source.ts). */
export interface SourceModule {
  openSource(ctx: SourceContext): Promise<RecordSource>;
}

/** How `record` summarises a signal per run. */
export type RecordSummary =
  /** From the raw reader's deltas, folded over the whole run (CO-RE signals sharing the recording's session). */
  | { kind: 'raw'; totals: () => Promise<RawTotalsFactory> }
  /** From one record whose interval is the whole run (opened per run: procfs signals open last, read first). */
  | { kind: 'record'; summarise: () => Promise<(record: unknown) => SignalSummary> };

/** Fresh totals for one run; `finish` adds run-end warnings (pid: the workload's). */
export type RawTotalsFactory = (
  reader: SignalReader<unknown>,
  pid: number,
) => {
  add(delta: unknown): void;
  summary(): SignalSummary;
};

export interface SignalDef {
  /** One name everywhere: bpf/<name>.bpf.c, src/signals/<name>/, the record's `signal`, the CLI. */
  readonly name: string;
  /** One line for help and docs. */
  readonly about: string;
  /** Backends in order of preference (auto takes the first that this host can run). */
  readonly backends: readonly SourceBackend[];
  /** Watched by `watch all`. */
  readonly inAll?: boolean;
  /** Its CO-RE objects write the event feed: loaded for `watch events` even when not asked for. */
  readonly producesEvents?: boolean;
  /** Measured by `diagnose` for its target. */
  readonly diagnose?: boolean;
  /** Needs the session of the signals opened with it (the event feed). */
  readonly needsSession?: boolean;
  /** The object the session's own bpftool batch loads when this signal opens first (start-up: one process less). */
  readonly sessionPreload?: string;
  /** Summarised per run by `record` (absent: a live view only). */
  readonly record?: RecordSummary;
  /** The source module, imported when the signal is opened. */
  load(): Promise<SourceModule>;
  /** The terminal view of one record. */
  view(): Promise<(record: never) => string>;
}
