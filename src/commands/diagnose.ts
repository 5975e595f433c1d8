/**
 * `tuner diagnose --pid N | --cgroup PATH`: a zero-overhead baseline from
 * /proc and the cgroup files, then the sched, futex and I/O probes scoped to
 * the target for the window, then a ranked list of findings with their
 * evidence and the command that would nudge each. Returns the report.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { KernelError, UsageError, messageOf } from '../errors.js';
import { sleep } from '../lifecycle/sleep.js';
import { canLoadBpf } from '../procfs/caps.js';
import { resolveScope, unifiedCgroupOf, unifiedCounterpart, type Scope } from '../scope/resolve.js';
import { openSignals, type OpenedSignals } from '../signals/open.js';
import { signalsWith } from '../signals/registry.js';
import { openPsi } from '../signals/psi/procfs.js';
import { buildPsiRecord, type PsiRecord } from '../signals/psi/record.js';
import type { SchedRecord } from '../signals/sched/record.js';
import type { FutexRecord } from '../signals/futex/record.js';
import type { IoRecord } from '../signals/io/record.js';
import { BACKENDS, type BackendChoice } from '../signals/backend.js';
import { stopSignal } from '../lifecycle/exit.js';
import { parseChoice, parseDuration, parsePids } from '../options/parse.js';
import { line, type CommandSpec } from './spec.js';
import { cpuCgroupDir, readCgroupCpu, readProc, type CgroupCpu, type ProcSnapshot } from '../diagnose/baseline.js';
import { findings, type Finding, type Measurements } from '../diagnose/findings.js';
import { parseThresholds, type Thresholds } from '../diagnose/thresholds.js';
import { sampleThreads, starvation, targetThreads, type Sample, type Starvation } from '../diagnose/starved.js';

export interface DiagnoseOptions {
  pid?: number;
  cgroup?: string;
  durationMs: number;
  thresholds: Thresholds;
  backend?: BackendChoice;
  /** Ends the window early (Ctrl-C): the report covers what was measured. */
  signal?: AbortSignal;
  onProgress?: (elapsedMs: number, totalMs: number) => void;
}

export interface DiagnoseReport {
  pid: number | null;
  comm: string;
  cgroup: string | null;
  duration_ms: number;
  /** The target exited before the window ended (the report covers what was gathered). */
  exited: boolean;
  summary: {
    threads: number;
    cpu_pct: number | null;
    cpus_allowed: string | null;
    mems_allowed: string | null;
    numa_pages: Record<string, number>;
    cpu_quota_cpus: number | null;
  };
  findings: Finding[];
  signals: { sched: SchedRecord | null; futex: FutexRecord | null; io: IoRecord | null; psi: PsiRecord | null };
  /** Signals that could not be measured here, and why. */
  missing: Array<{ signal: string; reason: string }>;
}

/** Signals that failed for the same reason (no session: every CO-RE one), listed once. */
function mergeReasons(failed: ReadonlyArray<{ signal: string; reason: string }>): Array<{ signal: string; reason: string }> {
  const out: Array<{ signal: string; reason: string }> = [];
  for (const f of failed) {
    const same = out.find((o) => o.reason === f.reason);
    if (same) same.signal += `, ${f.signal}`;
    else out.push({ ...f });
  }
  return out;
}

/** How often, besides the window's start and end, the target's threads are sampled for starvation. */
const SAMPLE_EVERY_MS = 500;

export async function diagnose(opts: DiagnoseOptions): Promise<DiagnoseReport> {
  if ((opts.pid === undefined) === (opts.cgroup === undefined)) throw new UsageError('diagnose: give exactly one of --pid or --cgroup');
  if (opts.pid !== undefined && !existsSync(`/proc/${opts.pid}`)) throw new UsageError(`--pid ${opts.pid}: no such process`);
  const scope = resolveScope({ pids: opts.pid === undefined ? undefined : [opts.pid], cgroup: opts.cgroup });
  if (!canLoadBpf()) {
    throw new KernelError('diagnose loads BPF probes, which needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); this process has neither', {
      hint: `run it as root: sudo tuner diagnose ${opts.pid !== undefined ? `--pid ${opts.pid}` : `--cgroup ${opts.cgroup}`}`,
    });
  }
  const pid = opts.pid;
  const missing: DiagnoseReport['missing'] = [];
  const cgDir = pid === undefined ? undefined : cpuCgroupDir(pid, scope.layout);
  // The zero-overhead baseline is read when the probes' window opens, so both cover the same time.
  let procStart: ProcSnapshot | undefined;
  let cgStart: CgroupCpu | undefined;
  const psiCgroup = pid !== undefined ? unifiedCgroupOf(pid) : unifiedCounterpart(scope);
  const psi = openPsi({ unifiedRoot: scope.layout.unified?.mountPoint, cgroups: psiCgroup ? [psiCgroup] : [] });

  let target: OpenedSignals | undefined;
  let host: OpenedSignals | undefined;
  let hostRecord: SchedRecord | undefined;
  const records: Partial<Record<string, unknown>> = {};
  let exited = false;
  let procEnd: ProcSnapshot | undefined;
  let cgEnd: CgroupCpu | undefined;
  let windowMs = opts.durationMs;
  let start = Date.now();
  // Every target thread's state and schedstat a few times in the window: a thread queued until the end has
  // no run-queue wait accounted anywhere yet (see starved.ts).
  const tids = targetThreads(pid !== undefined ? { pid } : { cgroupDir: scope.cgroup!.path });
  const samples: Sample[] = [];
  try {
    const backend = opts.backend ?? 'auto';
    // Loads are independent bpftool runs (mostly verifier time): run them side by side.
    const [t, h] = await Promise.allSettled([
      openSignals(signalsWith('diagnose'), scope, { backend, intervalMs: opts.durationMs, top: 20, tolerate: true }),
      // Who else used the CPUs meanwhile: the scheduler signal for the whole host, in its own session.
      openSignals(['sched'], { layout: scope.layout }, { backend, intervalMs: opts.durationMs, top: 100 }),
    ]);
    if (t.status === 'fulfilled') target = t.value;
    if (h.status === 'fulfilled') host = h.value;
    missing.push(...mergeReasons(target?.failed ?? []));
    if (t.status === 'rejected') missing.push({ signal: signalsWith('diagnose').join(', '), reason: messageOf(t.reason).split('\n')[0]! });
    if (h.status === 'rejected')
      missing.push({ signal: 'sched (host-wide, for noisy neighbors)', reason: messageOf(h.reason).split('\n')[0]! });
    const sources = target?.sources ?? [];
    if (host) await host.sources[0]!.next();
    for (const s of sources) await s.next(); // baselines
    await psi.read();
    procStart = pid === undefined ? undefined : readProc(pid);
    cgStart = cgDir ? readCgroupCpu(cgDir) : undefined;

    start = Date.now();
    samples.push(sampleThreads(tids, start));
    while (Date.now() - start < opts.durationMs) {
      if (!(await sleep(Math.min(100, opts.durationMs - (Date.now() - start)), opts.signal))) break;
      opts.onProgress?.(Date.now() - start, opts.durationMs);
      // None close to the end: a running thread's on-CPU time moves at each tick, so a sample a few ms before the
      // last one could see a thread that runs as one that did not.
      const now = Date.now();
      if (now - samples.at(-1)!.atMs >= SAMPLE_EVERY_MS && start + opts.durationMs - now >= SAMPLE_EVERY_MS / 2)
        samples.push(sampleThreads(tids, now));
      if (pid !== undefined && !existsSync(`/proc/${pid}`)) {
        exited = true;
        break;
      }
    }
    for (const src of sources) records[src.signal] = await src.next();
    if (host) hostRecord = (await host.sources[0]!.next()) as SchedRecord;
    procEnd = pid === undefined || exited ? undefined : readProc(pid);
    cgEnd = cgDir && !exited ? readCgroupCpu(cgDir) : undefined;
    windowMs = Date.now() - start;
    // After the probes' and /proc's last reads: a thread not switched in up to here has none of its wait in them.
    samples.push(sampleThreads(tids));
  } finally {
    target?.close();
    host?.close();
  }
  const psiRec = buildPsiRecord(await psi.read(), new Date());

  const durationMs = (records.sched as SchedRecord | undefined)?.interval_ms ?? windowMs;
  const m = measure({
    scope,
    pid,
    durationMs,
    starved: starvation(samples, durationMs),
    procStart,
    procEnd,
    cgStart,
    cgEnd,
    cgName: cgDir?.name,
    sched: records.sched as SchedRecord | undefined,
    futex: records.futex as FutexRecord | undefined,
    io: records.io as IoRecord | undefined,
    host: hostRecord,
    psi: psiRec,
    psiCgroup,
  });
  return {
    pid: pid ?? null,
    comm: m.target.comm,
    cgroup: m.target.cgroup ?? null,
    duration_ms: Math.round(m.durationMs),
    exited,
    summary: {
      threads: m.target.threads,
      cpu_pct:
        procStart && procEnd ? Math.round(((procEnd.cpuTicks - procStart.cpuTicks) / 100 / (m.durationMs / 1000)) * 1000) / 10 : null,
      cpus_allowed: procStart?.cpusAllowed ?? null,
      mems_allowed: procStart?.memsAllowed ?? null,
      numa_pages: procStart?.nodePages ?? {},
      cpu_quota_cpus: cgStart?.quotaCpus ?? null,
    },
    findings: findings(m, opts.thresholds),
    signals: {
      sched: (records.sched as SchedRecord | undefined) ?? null,
      futex: (records.futex as FutexRecord | undefined) ?? null,
      io: (records.io as IoRecord | undefined) ?? null,
      psi: psiRec,
    },
    missing,
  };
}

interface Gathered {
  scope: Scope;
  pid?: number;
  durationMs: number;
  procStart?: ProcSnapshot;
  procEnd?: ProcSnapshot;
  cgStart?: CgroupCpu;
  cgEnd?: CgroupCpu;
  cgName?: string;
  sched?: SchedRecord;
  futex?: FutexRecord;
  io?: IoRecord;
  host?: SchedRecord;
  psi: PsiRecord;
  psiCgroup?: string;
  starved?: Starvation;
}

/** Fold the records of the window into what the rules look at (one process, or the whole cgroup). */
export function measure(g: Gathered): Measurements {
  const mine = <T extends { pid: number }>(xs: T[] | undefined): T[] => (xs ?? []).filter((x) => g.pid === undefined || x.pid === g.pid);
  const sum = <T>(xs: T[], f: (x: T) => number): number => xs.reduce((s, x) => s + f(x), 0);
  const schedProcs = mine(g.sched?.procs);
  const targetCg = g.cgName ?? schedProcs[0]?.cgroup ?? g.scope.cgroup?.name;
  const m: Measurements = {
    durationMs: g.durationMs,
    target: {
      pid: g.pid,
      comm: g.procStart?.comm ?? schedProcs[0]?.comm ?? (g.scope.cgroup ? g.scope.cgroup.name : ''),
      threads:
        g.procEnd?.threads ??
        g.procStart?.threads ??
        Math.max(
          1,
          sum(schedProcs, (p) => p.threads),
        ),
      ...(targetCg ? { cgroup: targetCg, cgroupParent: path.posix.dirname(targetCg) } : {}),
    },
  };
  if (g.sched) {
    const p99 = schedProcs.length === 1 ? schedProcs[0]!.runq.p99_us : g.sched.runq.p99_us;
    const max = schedProcs.length === 1 ? schedProcs[0]!.runq.max_us : g.sched.runq.max_us;
    m.sched = {
      oncpuNs: sum(schedProcs, (p) => p.oncpu_ns),
      runqWaitNs: sum(schedProcs, (p) => p.runq_wait_ns),
      p99Us: p99,
      maxUs: max,
      switches: sum(schedProcs, (p) => p.switches),
      involuntary: sum(schedProcs, (p) => p.involuntary),
    };
  } else if (g.procStart && g.procEnd) {
    // No probe: the kernel's own accounting still gives the totals.
    m.sched = {
      oncpuNs: g.procEnd.oncpuNs - g.procStart.oncpuNs,
      runqWaitNs: g.procEnd.runDelayNs - g.procStart.runDelayNs,
      p99Us: null,
      maxUs: null,
      switches: 0,
      involuntary: 0,
    };
  }
  if (m.sched && g.starved && g.starved.threads > 0) {
    // Their wait counts as run-queue wait; never more than every thread waiting the whole window.
    const cap = Math.max(m.target.threads, g.starved.sampled) * g.durationMs * 1e6;
    m.sched.runqWaitNs = Math.min(m.sched.runqWaitNs + g.starved.waitNs, cap);
    m.sched.starved = g.starved;
  }
  if (g.futex) {
    const procs = mine(g.futex.procs);
    const word = mine(g.futex.addrs)[0];
    m.futex = {
      waits: sum(procs, (p) => p.waits),
      waitNs: sum(procs, (p) => p.wait_ns),
      wakes: sum(procs, (p) => p.wakes),
      p99Us: procs.length === 1 ? procs[0]!.wait.p99_us : g.futex.wait.p99_us,
      ...(word ? { hotWord: { uaddr: word.uaddr, waiters: word.waiters, waitNs: word.wait_ns } } : {}),
    };
  }
  if (g.io) {
    const procs = mine(g.io.procs);
    m.io = {
      ios: sum(procs, (p) => p.ios),
      waitNs: sum(procs, (p) => p.wait_ns),
      devices: g.io.devices.map((d) => ({
        dev: d.dev,
        iops: d.iops,
        p99Us: d.lat.p99_us,
        readSeqPct: d.read_seq_pct,
        avgReadKb: d.avg_read_kb,
      })),
    };
  }
  if (g.cgStart && g.cgEnd && g.cgName) {
    m.throttle = {
      quotaCpus: g.cgEnd.quotaCpus,
      periods: g.cgEnd.nrPeriods - g.cgStart.nrPeriods,
      throttled: g.cgEnd.nrThrottled - g.cgStart.nrThrottled,
      throttledUs: g.cgEnd.throttledUs - g.cgStart.throttledUs,
      cgroup: g.cgName,
      dir: g.cgEnd.dir,
    };
  }
  const cgPsi = g.psi.cgroups.find((c) => c.cgroup === g.psiCgroup && g.psiCgroup !== '/');
  const src = cgPsi ?? g.psi;
  m.psi = {
    scope: cgPsi ? `cgroup ${cgPsi.cgroup}` : 'the whole host',
    ...(src.cpu ? { cpu: src.cpu.some_pct } : {}),
    ...(src.memory ? { memory: src.memory.some_pct } : {}),
    ...(src.io ? { io: src.io.some_pct } : {}),
  };
  if (g.host) {
    const top = new Map<string, string>();
    for (const p of [...g.host.procs].sort((a, b) => b.oncpu_ns - a.oncpu_ns))
      if (!top.has(p.cgroup)) top.set(p.cgroup, `${p.comm}[${p.pid}]`);
    m.hostCgroups = g.host.cgroups.map((c) => ({
      cgroup: c.cgroup,
      oncpuNs: c.oncpu_ns,
      ...(top.has(c.cgroup) ? { topTask: top.get(c.cgroup)! } : {}),
    }));
  }
  return m;
}

export const command: CommandSpec<DiagnoseOptions, DiagnoseReport> = {
  options(_args, flags) {
    const f = flags as { pid?: string; cgroup?: string; duration: string; threshold?: string[]; json?: boolean; backend: string };
    if (f.pid === undefined && f.cgroup === undefined) throw new UsageError('diagnose: give --pid PID or --cgroup PATH');
    const pids = f.pid === undefined ? undefined : parsePids([f.pid]);
    if (pids && pids.length !== 1) throw new UsageError(`--pid: diagnose takes one process, got ${pids.length}`);
    const tty = process.stderr.isTTY === true && !f.json;
    return {
      pid: pids?.[0],
      cgroup: f.cgroup,
      durationMs: parseDuration(f.duration, '--duration'),
      thresholds: parseThresholds(f.threshold),
      backend: parseChoice(f.backend, BACKENDS, '--backend'),
      signal: stopSignal,
      onProgress: tty
        ? (done, total) => process.stderr.write(`\r  measuring... ${(done / 1000).toFixed(1)} / ${(total / 1000).toFixed(1)} s `)
        : undefined,
    };
  },
  async run(o) {
    try {
      return await diagnose(o);
    } finally {
      if (o.onProgress) process.stderr.write('\r\x1b[K');
    }
  },
  output: {
    view: async () => line((await import('../output/diagnose-view.js')).renderDiagnose),
  },
};
