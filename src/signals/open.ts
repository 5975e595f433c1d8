/**
 * The one way commands open signals (watch, run, diagnose, record): pick each
 * signal's backend, load the CO-RE ones into one shared session, and return
 * record sources that report which backend each got and why. Everything
 * opened is closed again on failure.
 */
import { KernelError, messageOf } from '../errors.js';
import { openSession, type BpfScope, type Session } from '../loader/session.js';
import type { Scope } from '../scope/resolve.js';
import { chooseBackend, coreFallback, primeBpftoolProbe, stderrWarn, type Backend, type BackendChoice } from './backend.js';
import { signalDef, signalsWith } from './registry.js';
import type { EventsRecord } from './events/bpf.js';
import type { FutexRecord } from './futex/record.js';
import type { IoRecord } from './io/record.js';
import type { NetRecord } from './net/record.js';
import type { NumaRecord } from './numa/record.js';
import type { PsiRecord } from './psi/record.js';
import type { SchedRecord } from './sched/record.js';
import type { Outliers, RecordSource, SignalDef, SourceBackend } from './types.js';

export { SIGNALS, type SignalName } from './registry.js';
export type { Outliers, RecordSource } from './types.js';

export type AnyRecord = SchedRecord | FutexRecord | IoRecord | NetRecord | PsiRecord | NumaRecord | EventsRecord;

export const DEFAULT_OUTLIERS: Outliers = { runqNs: 10e6, futexNs: 50e6, ioNs: 50e6 };
const NO_OUTLIERS: Outliers = { runqNs: 0, futexNs: 0, ioNs: 0 };

export interface OpenOptions {
  backend: BackendChoice;
  intervalMs: number;
  /** Processes kept in per-process records (ignored with --pid). */
  top: number;
  /** Also observe processes the PID set forks (record, diagnose). */
  followChildren?: boolean;
  /** Event thresholds; events are produced only when the events signal is open. */
  outliers?: Outliers;
  /** Warnings about optional hooks that could not be loaded (printed once by the caller). */
  warn?: (message: string) => void;
  /** Sees each interval's delta of every signal before its record is built (the agent's histograms). */
  onDelta?: (signal: string, delta: unknown) => void;
  /** Open the signals side by side and list each one that fails in `failed` instead of throwing (diagnose). */
  tolerate?: boolean;
}

/** The backend a signal got, and why (what `tuner doctor` and the commands report). */
export interface BackendPick {
  signal: string;
  backend: SourceBackend;
  reason: string;
}

export interface OpenedSignals {
  /** The sources asked for, in the order asked (with `tolerate`: those that opened). */
  sources: RecordSource[];
  /** Sources opened only to produce events (read every interval, records dropped). */
  producers: RecordSource[];
  /** The backend of every source opened, and why. */
  backends: BackendPick[];
  /** With `tolerate`: the signals that could not be opened, and why (first line of the error). */
  failed: Array<{ signal: string; reason: string }>;
  /** The shared maps of the CO-RE objects (undefined when none was opened). */
  session?: Session;
  close(): void;
}

/**
 * The backend of one signal for the `--backend` asked. A signal with no BPF
 * backend reads procfs whatever was asked. CO-RE is taken when bpftool can
 * load and attach it (auto, bpf); otherwise bpftrace, for a signal that has a
 * bpftrace script.
 */
export async function pickBackend(def: SignalDef, requested: BackendChoice): Promise<BackendPick> {
  const signal = def.name;
  if (!def.backends.includes('bpf') && !def.backends.includes('bpftrace'))
    return { signal, backend: 'procfs', reason: 'reads /proc and /sys (no BPF)' };
  const chosen: Backend = await chooseBackend(requested);
  if (chosen === 'bpf') {
    return { signal, backend: 'bpf', reason: requested === 'bpf' ? '--backend bpf' : 'auto: bpftool loads and attaches the CO-RE objects' };
  }
  if (def.backends.includes('bpftrace')) {
    return {
      signal,
      backend: 'bpftrace',
      reason: requested === 'bpftrace' ? '--backend bpftrace' : 'auto: bpftool cannot attach CO-RE objects (needs 7.2+); bpftrace can',
    };
  }
  throw new KernelError(`${signal} has only a CO-RE backend, which needs bpftool 7.2 or newer (autoattach)`, { hint: 'tuner doctor' });
}

/**
 * Where a signal goes when its chosen backend failed to open: under
 * --backend auto, a CO-RE object the kernel refused (verifier, a map type or
 * hook it lacks) sends a signal that has a bpftrace script to bpftrace, with
 * one warning giving libbpf's reason. `tuner doctor` loads the same object
 * and states this verdict. --backend bpf keeps the error, and so does any
 * other failure (bpffs, privileges).
 */
async function fallbackPick(
  def: SignalDef,
  failed: BackendPick,
  err: unknown,
  requested: BackendChoice,
  warn: (m: string) => void,
): Promise<BackendPick | undefined> {
  const fallback = await coreFallback(requested, def.name, failed.backend, def.backends.includes('bpftrace'), err);
  if (!fallback) return undefined;
  warn(fallback.warning);
  return { signal: def.name, backend: 'bpftrace', reason: fallback.reason };
}

/**
 * The session maps, when the backend is CO-RE. The bpftool batch that
 * creates them also reports bpftool's version, which picks the backend: one
 * process instead of two at start-up (npm run bench). A session made for
 * nothing (bpftool too old for autoattach: bpftrace) is closed.
 */
async function sessionIfBpf(backend: BackendChoice, scope: BpfScope, preload?: string): Promise<Session | undefined> {
  if (backend === 'bpftrace') return undefined;
  let session: Session | undefined;
  let failed: unknown;
  try {
    session = await openSession(scope, { preload });
    primeBpftoolProbe(session.bpftool);
  } catch (err) {
    failed = err;
  }
  let chosen: Backend;
  try {
    chosen = await chooseBackend(backend);
  } catch (err) {
    session?.close();
    throw err;
  }
  if (chosen !== 'bpf') {
    session?.close();
    return undefined;
  }
  if (!session) throw failed;
  return session;
}

function defOf(name: string): SignalDef {
  const def = signalDef(name);
  if (!def) throw new KernelError(`${name} is not a signal this build of tuner provides`);
  return def;
}

interface OpenContext {
  scope: Scope;
  opts: OpenOptions;
  session?: Session;
  outliers: Outliers;
}

/** Open one signal on its backend (or on the fallback's, when the first refuses). */
async function openOne(def: SignalDef, c: OpenContext): Promise<RecordSource> {
  const pick = await pickBackend(def, c.opts.backend);
  const mod = await def.load();
  const open = (p: BackendPick): Promise<RecordSource> =>
    mod.openSource({
      scope: c.scope,
      backend: p.backend,
      reason: p.reason,
      intervalMs: c.opts.intervalMs,
      top: c.opts.top,
      followChildren: c.opts.followChildren,
      session: p.backend === 'bpf' ? c.session : undefined,
      outliers: c.outliers,
      warn: c.opts.warn ?? (() => {}),
      onDelta: c.opts.onDelta,
    });
  try {
    return await open(pick);
  } catch (err) {
    const next = await fallbackPick(def, pick, err, c.opts.backend, c.opts.warn ?? stderrWarn);
    if (!next) throw err;
    return open(next);
  }
}

/**
 * Open signals for a scope. The CO-RE ones share one session (scope and
 * event channel); asking for `events` also loads the objects that emit them.
 */
export async function openSignals(signals: readonly string[], scope: Scope, opts: OpenOptions): Promise<OpenedSignals> {
  const wanted = [...new Set(signals)].map(defOf);
  const events = wanted.some((d) => d.needsSession);
  const producers = events
    ? signalsWith('producesEvents')
        .filter((s) => !wanted.some((d) => d.name === s))
        .map(defOf)
    : [];
  const all = [...producers, ...wanted];
  const usesBpf = all.some((d) => d.backends.includes('bpf'));
  const opened: RecordSource[] = [];
  const hidden: RecordSource[] = [];
  const failed: OpenedSignals['failed'] = [];
  let session: Session | undefined;
  const close = (): void => {
    for (const s of [...opened, ...hidden]) s.close();
    session?.close();
  };
  // Parse the signals' code while the bpftool processes below run.
  Promise.all(all.map((d) => d.load())).catch(() => {
    /* an import error surfaces again where the module is used */
  });
  try {
    for (const d of all.filter((x) => x.needsSession)) await pickBackend(d, opts.backend);
    // The first signal's object may load in the session's own bpftool process.
    const preload = all[0]?.sessionPreload;
    const bpfScope = { pids: scope.pids, cgroup: scope.cgroup, followChildren: opts.followChildren };
    if (usesBpf) {
      try {
        session = await sessionIfBpf(opts.backend, bpfScope, preload);
      } catch (err) {
        if (!opts.tolerate) throw err;
        // Without a session no CO-RE signal opens; the others still do.
        for (const d of all.filter((x) => x.backends.includes('bpf'))) failed.push({ signal: d.name, reason: firstLine(err) });
      }
    }
    const c: OpenContext = { scope, opts, session, outliers: events ? (opts.outliers ?? DEFAULT_OUTLIERS) : NO_OUTLIERS };
    if (opts.tolerate) {
      const todo = all.filter((d) => !failed.some((f) => f.signal === d.name));
      const results = await Promise.allSettled(todo.map((d) => openOne(d, c)));
      results.forEach((r, i) => {
        const d = todo[i]!;
        if (r.status === 'rejected') failed.push({ signal: d.name, reason: firstLine(r.reason) });
        else (producers.includes(d) ? hidden : opened).push(r.value);
      });
    } else {
      for (const d of producers) hidden.push(await openOne(d, c));
      for (const d of wanted) opened.push(await openOne(d, c));
    }
  } catch (err) {
    close();
    throw err;
  }
  const backends = [...hidden, ...opened].map((s) => ({ signal: s.signal, backend: s.backend, reason: s.reason }));
  return { sources: opened, producers: hidden, backends, failed, session, close };
}

function firstLine(err: unknown): string {
  return messageOf(err).split('\n')[0]!;
}
