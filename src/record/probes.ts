/**
 * The probes of a recording, scoped to one run's workload PID at a time with
 * its children followed. The CO-RE signals (sched, futex, io) share one
 * session, so they see the same process tree, are loaded once for every run,
 * and are read raw: exact totals and histograms merged over the whole run.
 * Between runs the session's PID set is replaced by the next workload's PID
 * and whatever accumulated meanwhile is read and dropped. Any other signal is
 * opened per run and read once, at the end, so its one record covers the run;
 * procfs sources (PSI) open last and are read first, to hug the run.
 */
import { existsSync } from 'node:fs';
import { openSession, u32le, type BpfScope, type Session } from '../loader/session.js';
import { resolveScope } from '../scope/resolve.js';
import { openFutexBpf, type FutexReader } from '../signals/futex.js';
import { openIoBpf } from '../signals/io.js';
import { openSchedBpf, type SignalReader } from '../signals/sched.js';
import { openSource, type RecordSource, type SignalName } from '../signals/open.js';
import type { FutexDelta } from '../signals/futex-record.js';
import type { IoDelta } from '../signals/io-record.js';
import type { SchedDelta } from '../signals/sched-record.js';
import { KernelError } from '../errors.js';
import { BpftoolBatch } from '../tools/batch.js';
import { bpftoolVersion, hexWords } from '../tools/bpftool.js';
import { SETUP_HINT } from '../tools/run.js';
import { FutexTotals } from './futex-summary.js';
import { IoTotals } from './io-summary.js';
import { summariseRecord } from './record-summary.js';
import { SchedTotals } from './sched-summary.js';
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

/** Signals read raw from their CO-RE objects, sharing the recording's session. */
export const RAW_SIGNALS: ReadonlySet<string> = new Set(['sched', 'futex', 'io']);
/** Signals read from procfs, not BPF: opened last, read first. */
const PROCFS_SIGNALS: ReadonlySet<string> = new Set(['psi']);

type Raw =
  | { signal: 'sched'; reader: SignalReader<SchedDelta> }
  | { signal: 'futex'; reader: FutexReader }
  | { signal: 'io'; reader: SignalReader<IoDelta> };

/** A raw reader folded into fresh totals: every read of the run adds to its sums. */
function rawProbe<D>(signal: string, reader: SignalReader<D>, totals: { add(d: D): void; summary(): SignalSummary }, after?: (s: SignalSummary) => void): RunProbe {
  return {
    signal,
    poll: async () => totals.add(await reader.read()),
    async finish() {
      totals.add(await reader.read());
      const s = totals.summary();
      after?.(s);
      return s;
    },
    close: () => {},
  };
}

function runProbeOf(raw: Raw, pid: number, warnings: string[]): RunProbe {
  switch (raw.signal) {
    case 'sched': {
      const totals = new SchedTotals();
      return rawProbe<SchedDelta>('sched', raw.reader, totals, (s) => {
        for (const p of totals.running()) {
          if (p.pid !== pid && existsSync(`/proc/${p.pid}`)) {
            s.warnings.push(`process ${p.pid} (${p.comm}) of the workload outlived the command; what it did afterwards is not in this run`);
          }
        }
      });
    }
    case 'futex':
      return rawProbe<FutexDelta>('futex', raw.reader, new FutexTotals(), (s) => s.warnings.push(...warnings));
    case 'io':
      return rawProbe<IoDelta>('io', raw.reader, new IoTotals());
  }
}

async function openRaw(signal: string, scope: BpfScope, session: Session): Promise<Raw> {
  switch (signal) {
    case 'sched':
      return { signal, reader: await openSchedBpf(scope, { session }) };
    case 'futex':
      return { signal, reader: await openFutexBpf(scope, { session }) };
    default:
      return { signal: 'io', reader: await openIoBpf(scope, { session }) };
  }
}

async function sourceProbe(signal: string, pid: number): Promise<RunProbe> {
  const source: RecordSource = await openSource(signal as SignalName, resolveScope({ pids: [pid] }), {
    backend: 'bpf',
    intervalMs: 1000,
    top: 1_000_000,
    followChildren: true,
  });
  return {
    signal,
    poll: async () => {},
    finish: async () => summariseRecord(await source.next()),
    close: () => source.close(),
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
  private session: Session | undefined;
  private raw: Raw[] = [];
  private batch: BpftoolBatch | undefined;
  private warnings: string[] = [];
  private perRun: RunProbe[] = [];

  constructor(private readonly signals: readonly string[]) {}

  /**
   * Aim every probe at the process tree of `pid` (a workload held at its
   * gate) and return this run's probes, in the order to finish them.
   */
  async attach(pid: number): Promise<RunProbe[]> {
    this.closeRun();
    const ordered = [...this.signals.filter((s) => !PROCFS_SIGNALS.has(s)), ...this.signals.filter((s) => PROCFS_SIGNALS.has(s))];
    const raw = ordered.filter((s) => RAW_SIGNALS.has(s));
    if (raw.length > 0) {
      if (!this.session) await this.open(raw, pid);
      else await this.retarget(pid);
    }
    const probes: RunProbe[] = [];
    for (const s of ordered) {
      const r = this.raw.find((x) => x.signal === s);
      probes.push(r ? runProbeOf(r, pid, this.warnings) : await sourceProbe(s, pid));
    }
    this.perRun = probes;
    // Finish in reverse: per-run procfs sources first, so their interval ends with the run.
    return probes.reverse();
  }

  private async open(signals: string[], pid: number): Promise<void> {
    const scope: BpfScope = { pids: [pid], followChildren: true };
    // record reads the CO-RE objects only (a bpftrace backend keeps its own clock: no exact per-run totals).
    const tool = await bpftoolVersion().catch(() => undefined);
    if (!tool?.autoattach) {
      throw new KernelError(
        `record: the ${signals.join(', ')} probes need bpftool 7.2 or newer (autoattach); ${tool ? `this is bpftool ${tool.version}` : 'bpftool is not installed'}`,
        { hint: `${SETUP_HINT}; or record only --signals psi` },
      );
    }
    try {
      this.session = await openSession(scope);
      for (const s of signals) this.raw.push(await openRaw(s, scope, this.session));
      const futex = this.raw.find((r) => r.signal === 'futex');
      if (futex) this.warnings = (futex.reader as FutexReader).warnings;
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Replace the session's PID set by {pid}, then read and drop what accumulated since the last run. */
  private async retarget(pid: number): Promise<void> {
    const pinned = this.session!.maps.tuner_pids;
    this.batch ??= new BpftoolBatch();
    for (const key of dumpKeys(await this.batch.request(['map', 'dump', 'pinned', pinned]))) {
      await this.batch.request(['map', 'delete', 'pinned', pinned, 'key', 'hex', ...key]);
    }
    await this.batch.request(['map', 'update', 'pinned', pinned, 'key', 'hex', ...hexWords(u32le(pid)), 'value', 'hex', '01']);
    // This read adopts the new workload (its counters now are its baselines) and drops the old tree.
    for (const r of this.raw) await r.reader.read();
  }

  private closeRun(): void {
    for (const p of this.perRun) p.close();
    this.perRun = [];
  }

  close(): void {
    this.closeRun();
    this.batch?.close();
    for (const r of this.raw) r.reader.close();
    this.raw = [];
    this.session?.close();
    this.session = undefined;
  }
}
