/**
 * The probes of a recording, scoped to one run's workload PID at a time with
 * its children followed. The CO-RE signals (sched, futex, io) share one
 * session, so they see the same process tree, are loaded once for every run,
 * and are read raw: exact totals and histograms merged over the whole run.
 * Between runs the session's PID set is replaced by the next workload's PID
 * and whatever accumulated meanwhile is read and dropped. Any other signal is
 * opened per run and read once, at the end, so its one record covers the run;
 * procfs sources (PSI) open last and are read first, to hug the run.
 *
 * Backends as everywhere (--backend auto): a CO-RE object the kernel refuses
 * falls back to bpftrace with one warning giving libbpf's reason. A bpftrace
 * probe has its scope compiled in and keeps its own clock, so it is started
 * for each run and every interval it reports from the start of the run to
 * the first one that ends after the workload's exit is summed.
 */
import { u32le } from '../loader/session.js';
import type { RecordSource } from '../signals/types.js';
import { resolveScope } from '../scope/resolve.js';
import type { SignalReader } from '../signals/reader.js';
import { openSignals, type OpenedSignals, type OpenOptions } from '../signals/open.js';
import { signalDef } from '../signals/registry.js';
import { BpftoolBatch } from '../tools/batch.js';
import { hexWords } from '../tools/bpftool.js';
import { summariseRecord } from './record-summary.js';
import type { SignalSummary } from './summary.js';

export interface RunProbe {
  readonly signal: string;
  /** Fold in what accumulated so far (long runs: keeps kernel maps small). */
  poll(): Promise<void>;
  /** After the workload exited: the last read, summarised. */
  finish(): Promise<SignalSummary>;
  /** Release what this run opened (per-run sources); idempotent. */
  close(): void;
}

/** Signals `record` reads raw from their CO-RE objects (their definitions' summary is `raw`). */
const isRaw = (signal: string): boolean => signalDef(signal)?.record?.kind === 'raw';
/** Signals read from procfs, not BPF: opened last, read first. */
const isProcfs = (signal: string): boolean => signalDef(signal)?.backends.every((b) => b === 'procfs') ?? false;

/** How record opens every signal: CO-RE where the kernel takes it, the workload's tree followed, every process kept. */
const OPEN: OpenOptions = { backend: 'auto', intervalMs: 1000, top: 1_000_000, followChildren: true };

/** A raw reader folded into fresh totals: every read of the run adds to its sums. */
async function rawProbe(signal: string, reader: SignalReader<unknown>, pid: number): Promise<RunProbe> {
  const how = signalDef(signal)!.record!;
  if (how.kind !== 'raw') throw new Error(`${signal}: not read raw by record`);
  const totals = (await how.totals())(reader, pid);
  return {
    signal,
    poll: async () => totals.add(await reader.read()),
    async finish() {
      totals.add(await reader.read());
      return totals.summary();
    },
    close: () => {},
  };
}

/**
 * A bpftrace source of this run (scoped to its workload): every interval it
 * reports is read as it comes and summed; finish() waits for the first one
 * that ends after it was called (the workload has exited by then).
 */
async function selfTimedProbe(signal: string, source: RecordSource, pid: number): Promise<RunProbe> {
  const how = signalDef(signal)!.record!;
  if (how.kind !== 'raw') throw new Error(`${signal}: not read raw by record`);
  const reader = source.raw!;
  const totals = (await how.totals())(reader, pid);
  let failed: unknown;
  let closed = false;
  let waiters: Array<() => void> = [];
  void (async () => {
    while (!closed) {
      try {
        totals.add(await reader.read());
      } catch (err) {
        failed ??= err;
      }
      const w = waiters;
      waiters = [];
      for (const r of w) r();
      if (failed !== undefined) return;
    }
  })();
  return {
    signal,
    poll: async () => {
      if (failed !== undefined) throw failed;
    },
    async finish() {
      // Intervals already delivered are read first (the pump takes them at once); then one that ends after now.
      await new Promise((r) => setImmediate(r));
      if (failed === undefined) await new Promise<void>((r) => waiters.push(r));
      if (failed !== undefined) throw failed;
      return totals.summary();
    },
    close: () => {
      if (closed) return;
      closed = true;
      source.close();
    },
  };
}

/** A signal opened for this run only and read once at its end: one record covering the run. */
async function sourceProbe(signal: string, pid: number): Promise<RunProbe> {
  const opened = await openSignals([signal], resolveScope({ pids: [pid] }), OPEN);
  const source = opened.sources[0]!;
  return {
    signal,
    poll: async () => {},
    finish: async () => summariseRecord(await source.next()),
    close: () => opened.close(),
  };
}

/** The keys of a `bpftool -j map dump` of a map without BTF: hex byte strings. */
export function dumpKeys(dump: unknown): string[][] {
  return (dump as Array<{ key: string[] }>).map((e) => e.key.map((b) => b.replace(/^0x/, '').padStart(2, '0')));
}

/**
 * The probes of one `record`: opened at the first run, re-aimed at each later
 * run's workload, closed at the end.
 */
export class RecordProbes {
  private opened: OpenedSignals | undefined;
  private batch: BpftoolBatch | undefined;
  private perRun: RunProbe[] = [];
  /** Raw signals whose CO-RE object the kernel refused: bpftrace, one source per run. */
  private readonly fellBack = new Set<string>();
  /** Their sources of the first run, opened with the others. */
  private firstRun = new Map<string, RecordSource>();

  constructor(private readonly signals: readonly string[]) {}

  /**
   * Aim every probe at the process tree of `pid` (a workload held at its
   * gate) and return this run's probes, in the order to finish them.
   */
  async attach(pid: number): Promise<RunProbe[]> {
    this.closeRun();
    const ordered = [...this.signals.filter((s) => !isProcfs(s)), ...this.signals.filter(isProcfs)];
    const raw = ordered.filter(isRaw);
    if (!this.opened && raw.length > 0) await this.open(raw, pid);
    else if (raw.some((s) => !this.fellBack.has(s))) await this.retarget(pid);
    const probes: RunProbe[] = [];
    for (const s of ordered) {
      const r = this.opened?.sources.find((x) => x.signal === s)?.raw;
      if (this.fellBack.has(s)) probes.push(await selfTimedProbe(s, this.firstRun.get(s) ?? (await this.openBpftrace(s, pid)), pid));
      else probes.push(r ? await rawProbe(s, r, pid) : await sourceProbe(s, pid));
    }
    this.firstRun.clear();
    this.perRun = probes;
    // Finish in reverse: per-run procfs sources first, so their interval ends with the run.
    return probes.reverse();
  }

  private async open(signals: string[], pid: number): Promise<void> {
    this.opened = await openSignals(signals, resolveScope({ pids: [pid] }), OPEN);
    // The ones on bpftrace leave the shared set: they are this run's only (see selfTimedProbe).
    for (const src of this.opened.sources.filter((x) => x.backend === 'bpftrace')) {
      this.fellBack.add(src.signal);
      this.firstRun.set(src.signal, src);
    }
    this.opened.sources = this.opened.sources.filter((x) => x.backend !== 'bpftrace');
  }

  /** A bpftrace source of `signal` scoped to the tree of `pid` (a later run of a signal that fell back). */
  private async openBpftrace(signal: string, pid: number): Promise<RecordSource> {
    const opened = await openSignals([signal], resolveScope({ pids: [pid] }), { ...OPEN, backend: 'bpftrace' });
    return opened.sources[0]!;
  }

  /** Replace the session's PID set by {pid}, then read and drop what accumulated since the last run. */
  private async retarget(pid: number): Promise<void> {
    const pinned = this.opened!.session!.maps.tuner_pids;
    this.batch ??= new BpftoolBatch();
    for (const key of dumpKeys(await this.batch.request(['map', 'dump', 'pinned', pinned]))) {
      await this.batch.request(['map', 'delete', 'pinned', pinned, 'key', 'hex', ...key]);
    }
    await this.batch.request(['map', 'update', 'pinned', pinned, 'key', 'hex', ...hexWords(u32le(pid)), 'value', 'hex', '01']);
    // This read adopts the new workload (its counters now are its baselines) and drops the old tree.
    for (const s of this.opened!.sources) await s.raw?.read();
  }

  private closeRun(): void {
    for (const p of this.perRun) p.close();
    this.perRun = [];
    for (const src of this.firstRun.values()) src.close();
    this.firstRun.clear();
  }

  close(): void {
    this.closeRun();
    this.batch?.close();
    this.opened?.close();
    this.opened = undefined;
  }
}
