/**
 * Record sources: a signal's reader plus its record builder, opened for a
 * scope. `watch`, `diagnose`, `record` and `run` all sample signals through
 * these, so a signal is wired in once, here.
 */
import { readFileSync } from 'node:fs';
import { CgroupNames } from '../cgroup/names.js';
import { busyPercent, readCpuTimes } from '../procfs/stat.js';
import type { Scope } from '../scope/resolve.js';
import { unifiedCgroupOf, unifiedCounterpart } from '../scope/resolve.js';
import { chooseBackend, primeBpftoolProbe, type Backend, type BackendChoice } from './backend.js';
import type { PsiRecord } from './psi-record.js';
import type { SignalReader } from './sched.js';
import type { SchedDelta, SchedRecord } from './sched-record.js';
import type { NumaRecord } from './numa-record.js';
import type { FutexDelta, FutexRecord } from './futex-record.js';
import type { IoRecord } from './io-record.js';
import type { EventsRecord } from './events.js';
import type { NetRecord } from './net-record.js';
import { KernelError } from '../errors.js';
import { openSession, type BpfScope, type Session } from '../loader/session.js';

export const SIGNALS = ['sched', 'futex', 'io', 'net', 'psi', 'numa', 'events'] as const;
export type SignalName = (typeof SIGNALS)[number];

/** Signals whose kernel side is a CO-RE object (they share a session). */
const BPF_SIGNALS: ReadonlySet<SignalName> = new Set(['sched', 'futex', 'io', 'net']);

/** The signals that emit events (loaded as producers when only `events` is asked for). */
const EVENT_PRODUCERS: readonly SignalName[] = ['sched', 'futex', 'io'];

export type AnyRecord = SchedRecord | FutexRecord | IoRecord | NetRecord | PsiRecord | NumaRecord | EventsRecord;

/** Outlier thresholds for the event feed, ns (0: none of that kind). */
export interface Outliers {
  runqNs: number;
  futexNs: number;
  ioNs: number;
}

export const DEFAULT_OUTLIERS: Outliers = { runqNs: 10e6, futexNs: 50e6, ioNs: 50e6 };

export interface RecordSource<R = AnyRecord> {
  readonly signal: SignalName;
  readonly backend: 'bpf' | 'bpftrace' | 'procfs';
  readonly selfTimed?: boolean;
  /** The next interval's record (pull sources: since the previous call). */
  next(): Promise<R>;
  close(): void;
  helperPids(): number[];
}

export interface OpenOptions {
  backend: BackendChoice;
  intervalMs: number;
  /** Processes kept in sched records (ignored with --pid). */
  top: number;
  /** Also observe processes the PID set forks (record, diagnose). */
  followChildren?: boolean;
  /** The shared maps of the objects opened together (see openSources). */
  session?: Session;
  /** Event thresholds; events are produced only when the events signal is open. */
  outliers?: Outliers;
  /** Warnings about optional hooks that could not be loaded (printed once by the caller). */
  warn?: (message: string) => void;
  /** Sees each interval's delta before the record is built (the agent's histograms). */
  onDelta?: (signal: 'sched' | 'futex', delta: SchedDelta | FutexDelta) => void;
}

/**
 * Each signal's modules, imported when that signal is opened: `watch sched`
 * does not parse the futex, I/O, network and event code (start-up, npm run
 * bench). openSources starts these imports before its bpftool processes, so
 * they overlap.
 */
const modules = {
  sched: () => Promise.all([import('./sched.js'), import('./sched-bpftrace.js'), import('./sched-record.js')]),
  futex: () => Promise.all([import('./futex.js'), import('./futex-record.js')]),
  io: () => Promise.all([import('./io.js'), import('./io-record.js')]),
  net: () => Promise.all([import('./net.js'), import('./net-record.js')]),
  psi: () => Promise.all([import('./psi.js'), import('./psi-record.js')]),
  numa: () => import('./numa-source.js'),
  events: () => import('./events.js'),
} satisfies Record<SignalName, () => Promise<unknown>>;

export function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

async function openSchedSource(scope: Scope, opts: OpenOptions): Promise<RecordSource<SchedRecord>> {
  const [{ openSchedBpf }, { openSchedBpftrace }, { buildSchedRecord }] = await modules.sched();
  const backend = await chooseBackend(opts.backend);
  const schedScope = { pids: scope.pids, cgroup: scope.cgroup, followChildren: opts.followChildren };
  const reader: SignalReader<SchedDelta> =
    backend === 'bpf'
      ? await openSchedBpf(schedScope, { session: opts.session, outlierNs: opts.outliers?.runqNs })
      : await openSchedBpftrace(schedScope, opts.intervalMs, opts.warn);
  const names = new CgroupNames(scope.layout.cpu);
  let cpuTimes = readCpuTimes();
  return {
    signal: 'sched',
    backend,
    selfTimed: reader.selfTimed,
    helperPids: () => reader.helperPids(),
    close: () => reader.close(),
    async next() {
      const delta = await reader.read();
      opts.onDelta?.('sched', delta);
      const cur = readCpuTimes();
      const busy = busyPercent(cpuTimes, cur);
      cpuTimes = cur;
      return buildSchedRecord(delta, {
        backend: reader.backend,
        now: new Date(),
        top: opts.top,
        pids: opts.followChildren ? undefined : scope.pids,
        cgroupName: (id) => names.name(id),
        commOf,
        busyPct: busy,
      });
    },
  };
}

function tap<D extends SchedDelta | FutexDelta>(opts: OpenOptions, signal: 'sched' | 'futex', delta: D): D {
  opts.onDelta?.(signal, delta);
  return delta;
}

async function requireBpf(signal: SignalName, backend: BackendChoice): Promise<void> {
  if ((await chooseBackend(backend)) !== 'bpf') {
    throw new KernelError(`${signal} has only a CO-RE backend, which needs bpftool 7.2 or newer (autoattach)`, { hint: 'tuner doctor' });
  }
}

async function openFutexSource(scope: Scope, opts: OpenOptions): Promise<RecordSource<FutexRecord>> {
  await requireBpf('futex', opts.backend);
  const [{ openFutexBpf }, { buildFutexRecord }] = await modules.futex();
  const reader = await openFutexBpf(
    { pids: scope.pids, cgroup: scope.cgroup, followChildren: opts.followChildren },
    { session: opts.session, outlierNs: opts.outliers?.futexNs },
  );
  for (const w of reader.warnings) opts.warn?.(w);
  const names = new CgroupNames(scope.layout.cpu);
  return {
    signal: 'futex',
    backend: 'bpf',
    helperPids: () => reader.helperPids(),
    close: () => reader.close(),
    next: async () =>
      buildFutexRecord(tap(opts, 'futex', await reader.read()), {
        now: new Date(),
        top: opts.top,
        pids: opts.followChildren ? undefined : scope.pids,
        cgroupName: (id) => names.name(id),
        commOf,
      }),
  };
}

async function openIoSource(scope: Scope, opts: OpenOptions): Promise<RecordSource<IoRecord>> {
  await requireBpf('io', opts.backend);
  const [{ openIoBpf }, { buildIoRecord }] = await modules.io();
  const reader = await openIoBpf(
    { pids: scope.pids, cgroup: scope.cgroup, followChildren: opts.followChildren },
    { session: opts.session, outlierNs: opts.outliers?.ioNs },
  );
  const names = new CgroupNames(scope.layout.cpu);
  return {
    signal: 'io',
    backend: 'bpf',
    helperPids: () => reader.helperPids(),
    close: () => reader.close(),
    next: async () =>
      buildIoRecord(await reader.read(), {
        now: new Date(),
        top: opts.top,
        pids: opts.followChildren ? undefined : scope.pids,
        cgroupName: (id) => names.name(id),
        commOf,
      }),
  };
}

async function openPsiSource(scope: Scope): Promise<RecordSource<PsiRecord>> {
  const [{ defaultPsiCgroups, openPsi }, { buildPsiRecord }] = await modules.psi();
  const unified = scope.layout.unified?.mountPoint;
  let cgroups: string[] = [];
  if (unified) {
    if (scope.pids) cgroups = [...new Set(scope.pids.map(unifiedCgroupOf).filter((c): c is string => c !== undefined))];
    else if (scope.cgroup) {
      const counterpart = unifiedCounterpart(scope);
      cgroups = counterpart ? defaultPsiCgroups(unified, counterpart) : [];
    } else cgroups = defaultPsiCgroups(unified);
  }
  const reader = openPsi({ unifiedRoot: unified, cgroups });
  return {
    signal: 'psi',
    backend: 'procfs',
    helperPids: () => [],
    close: () => reader.close(),
    next: async () => buildPsiRecord(await reader.read(), new Date()),
  };
}

export async function openSource(signal: SignalName, scope: Scope, opts: OpenOptions): Promise<RecordSource> {
  switch (signal) {
    case 'sched':
      return openSchedSource(scope, opts);
    case 'psi':
      return openPsiSource(scope);
    case 'numa':
      return (await modules.numa()).openNumaSource(scope, opts);
    case 'futex':
      return openFutexSource(scope, opts);
    case 'io':
      return openIoSource(scope, opts);
    case 'net': {
      await requireBpf('net', opts.backend);
      const [{ openNetBpf }, { buildNetRecord }] = await modules.net();
      const reader = await openNetBpf({ pids: scope.pids, cgroup: scope.cgroup, followChildren: opts.followChildren }, { session: opts.session });
      for (const w of reader.warnings) opts.warn?.(w);
      return {
        signal: 'net',
        backend: 'bpf',
        helperPids: () => reader.helperPids(),
        close: () => reader.close(),
        next: async () => buildNetRecord(await reader.read(), { now: new Date(), top: opts.top }),
      };
    }
    case 'events': {
      if (!opts.session) throw new Error('the events signal needs a session: open it with openSources');
      const reader = await (await modules.events()).openEvents(opts.session);
      return { signal: 'events', backend: 'bpf', helperPids: () => reader.helperPids(), close: () => reader.close(), next: () => reader.next() };
    }
  }
}

export interface OpenedSources {
  /** The sources whose records the caller asked for, in the order asked. */
  sources: RecordSource[];
  /** Sources opened only to produce events (read every interval, records dropped). */
  producers: RecordSource[];
  close(): void;
}

/**
 * Open several signals together: the CO-RE ones share one session (scope and
 * event channel); asking for `events` also loads the objects that emit them.
 * On any failure everything opened so far is closed.
 */
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

export async function openSources(signals: readonly SignalName[], scope: Scope, opts: OpenOptions): Promise<OpenedSources> {
  const wanted = [...new Set(signals)];
  const events = wanted.includes('events');
  const producers = events ? EVENT_PRODUCERS.filter((s) => !wanted.includes(s)) : [];
  const usesBpf = events || wanted.some((s) => BPF_SIGNALS.has(s));
  let session: Session | undefined;
  const opened: RecordSource[] = [];
  const hidden: RecordSource[] = [];
  const close = (): void => {
    for (const s of [...opened, ...hidden]) s.close();
    session?.close();
  };
  // Parse the signals' code while the bpftool processes below run.
  const loading = Promise.all([...producers, ...wanted].map((s) => modules[s]()));
  loading.catch(() => {
    /* an import error surfaces again where the module is used */
  });
  try {
    if (events) await requireBpf('events', opts.backend);
    // The scheduler object, when it is the first to load, loads in the session's own bpftool process.
    const preload = [...producers, ...wanted][0] === 'sched' ? 'sched' : undefined;
    if (usesBpf) session = await sessionIfBpf(opts.backend, { pids: scope.pids, cgroup: scope.cgroup, followChildren: opts.followChildren }, preload);
    const o: OpenOptions = { ...opts, session, outliers: events ? (opts.outliers ?? DEFAULT_OUTLIERS) : { runqNs: 0, futexNs: 0, ioNs: 0 } };
    for (const s of producers) hidden.push(await openSource(s, scope, o));
    for (const s of wanted) opened.push(await openSource(s, scope, o));
  } catch (err) {
    close();
    throw err;
  }
  return { sources: opened, producers: hidden, close };
}
