/**
 * Scale: the cost of one interval's map read (the scheduler reader's read():
 * run the flush iterator over every task, dump the process, cgroup and CPU
 * maps, decode them) with 10, 1,000 and 10,000 tracked threads that each
 * sleep and wake between two reads (bench/workloads/wakers.c), all in one
 * process, and spread over as many processes (one entry each in the
 * per-process map, where the read's size grows). Every thread wakes once
 * between two reads, no more: switching to another process's address space
 * costs about 0.3 ms of CPU on the project's VM, so 10,000 processes waking
 * twice a second saturate both of its CPUs and the figure would measure
 * that. Reads are 1 s apart, or 0.6 ms per process when that is longer.
 */
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pinDir } from '../lib/attach.js';
import { workload } from '../lib/build.js';
import { lines, start, stderrOf, type Child } from '../lib/spawn.js';
import { openSchedReader, type SchedReader, type SchedReadSteps } from '../lib/tuner-api.js';
import { median } from '../lib/stats.js';

export interface ScaleRow {
  threads: number;
  processes: number;
  /** Tasks on the whole machine (the iterator visits every one). */
  tasks: number;
  /** Processes with activity in the read (entries decoded). */
  procEntries: number;
  /** Median over the timed reads: wall time, tuner's CPU (node, including the iterator run in its read(2)), and bpftool's CPU. */
  wallMs: number;
  nodeCpuMs: number;
  bpftoolCpuMs: number;
  wallMsRuns: number[];
  /** Where the reads' wall time went (medians of each step). */
  steps?: SchedReadSteps;
}

/** Idle processes: single-threaded sleepers that ran once (at their start), then sleep through every read. */
export interface IdleRow {
  processes: number;
  tasks: number;
  /** The read right after they started (every one of them new in the maps): medians over the repetitions, and each one. */
  first: { wallMs: number; nodeCpuMs: number; procEntries: number; wallMsRuns: number[]; steps?: SchedReadSteps };
  /** The reads after it, 1 s apart, nothing of theirs changing: medians, and every run's wall time. */
  steady: { wallMs: number; nodeCpuMs: number; wallMsRuns: number[]; procEntries: number };
}

export interface ScaleResult {
  reads: number;
  rows: ScaleRow[];
  idle: IdleRow[];
  /** Sizes not measured because a smaller one already took too long (a read can not be interrupted). */
  skipped: Array<{ threads: number; processes: number; reason: string }>;
}

/** A read slower than this at one size is not tried at the next (10x larger) size. */
const TOO_SLOW_MS = 1000;

/** Time between two reads, and the threads' sleep (shorter: each wakes between two reads). */
const spacingMs = (processes: number): number => Math.max(1000, processes * 0.6);
const periodMs = (processes: number): number => Math.round(0.8 * spacingMs(processes));

/** The median of each step over several reads. */
function medianSteps(all: Array<SchedReadSteps | undefined>): SchedReadSteps | undefined {
  const s = all.filter((x): x is SchedReadSteps => x !== undefined);
  if (s.length === 0) return undefined;
  const m = (k: keyof SchedReadSteps): number => median(s.map((x) => x[k]));
  return { flushMs: m('flushMs'), dumpMs: m('dumpMs'), dumpBytes: m('dumpBytes'), indexMs: m('indexMs'), deltasMs: m('deltasMs') };
}

function totalTasks(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/')[1] ?? NaN);
}

/** On-CPU nanoseconds of a (single-threaded) process, from /proc/PID/schedstat. */
function oncpuNs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return 0;
  }
}

async function startWakers(processes: number, threads: number): Promise<{ child: Child; gone: Promise<void> }> {
  const child = start(await workload('wakers'), [String(processes), String(threads), String(periodMs(processes))]);
  // Every process of the workload holds its stdout: end-of-file means all of them are gone.
  const gone = new Promise<void>((resolve) => child.stdout!.once('close', () => resolve()));
  const err = stderrOf(child);
  let ready = false;
  await lines(child, (l) => (ready = /^ready \d+/.test(l)));
  if (!ready) throw new Error(`wakers ${processes} ${threads}: not ready: ${err().trim().slice(0, 500)}`);
  return { child, gone };
}

async function measure(threads: number, processes: number, reads: number): Promise<ScaleRow> {
  const { child, gone } = await startWakers(processes, threads / processes);
  try {
    const reader = await openSchedReader(pinDir('scale'));
    try {
      await sleep(spacingMs(processes));
      await reader.read();
      const wall: number[] = [];
      const node: number[] = [];
      const tool: number[] = [];
      const steps: Array<SchedReadSteps | undefined> = [];
      let procEntries = 0;
      for (let i = 0; i < reads; i++) {
        await sleep(spacingMs(processes));
        const helpers = reader.helperPids();
        const tool0 = helpers.reduce((s, p) => s + oncpuNs(p), 0);
        const cpu0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        const d = await reader.read();
        const t1 = process.hrtime.bigint();
        const cpu = process.cpuUsage(cpu0);
        wall.push(Number(t1 - t0) / 1e6);
        node.push((cpu.user + cpu.system) / 1000);
        tool.push((helpers.reduce((s, p) => s + oncpuNs(p), 0) - tool0) / 1e6);
        steps.push(reader.lastSteps());
        procEntries = d.procs.length;
      }
      return {
        threads,
        processes,
        tasks: totalTasks(),
        procEntries,
        wallMs: median(wall),
        nodeCpuMs: median(node),
        bpftoolCpuMs: median(tool),
        wallMsRuns: wall,
        steps: medianSteps(steps),
      };
    } finally {
      reader.close();
    }
  } finally {
    child.kill('SIGKILL');
    await child;
    await gone;
  }
}

/** The cgroup v1 CPU hierarchy (the sleepers get a cgroup of their own there, removed afterwards). */
const CPU_CGROUPS = '/sys/fs/cgroup/cpu';

/** Time one read: wall and node CPU in ms, and the number of process entries with activity. */
interface TimedRead {
  wallMs: number;
  nodeCpuMs: number;
  procEntries: number;
  steps?: SchedReadSteps;
}

async function timedRead(reader: SchedReader): Promise<TimedRead> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const d = await reader.read();
  const t1 = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpu0);
  return {
    wallMs: Number(t1 - t0) / 1e6,
    nodeCpuMs: (cpu.user + cpu.system) / 1000,
    procEntries: d.procs.length,
    steps: reader.lastSteps(),
  };
}

/**
 * `processes` single-threaded sleepers in a cgroup of their own, started with
 * the reader open (so each one's start is activity the next read reports),
 * then asleep for an hour: the first read, then `reads` more 1 s apart.
 */
async function measureIdleOnce(processes: number, reads: number): Promise<{ first: TimedRead; steady: TimedRead[] }> {
  const cg = path.join(CPU_CGROUPS, `tuner-bench-scale-${process.pid}`);
  mkdirSync(cg);
  try {
    const reader = await openSchedReader(pinDir('scale-idle'));
    let child: Child | undefined;
    let gone: Promise<void> | undefined;
    try {
      await sleep(1000);
      await reader.read();
      // The workload joins the cgroup before it execs: every sleeper it forks is in there.
      child = start('sh', [
        '-c',
        'echo $$ > "$0/cgroup.procs" && exec "$@"',
        cg,
        await workload('wakers'),
        String(processes),
        '1',
        '3600000',
      ]);
      const c = child;
      gone = new Promise<void>((resolve) => c.stdout!.once('close', () => resolve()));
      const err = stderrOf(child);
      let ready = false;
      await lines(child, (l) => (ready = /^ready \d+/.test(l)));
      if (!ready) throw new Error(`wakers ${processes} 1: not ready: ${err().trim().slice(0, 500)}`);
      await sleep(1000);
      const first = await timedRead(reader);
      const steady: TimedRead[] = [];
      for (let i = 0; i < reads; i++) {
        await sleep(1000);
        steady.push(await timedRead(reader));
      }
      return { first, steady };
    } finally {
      reader.close();
      if (child) {
        child.kill('SIGKILL');
        await child;
        await gone;
      }
    }
  } finally {
    // The sleepers die with the workload's first process (PR_SET_PDEATHSIG): wait for the cgroup to empty.
    for (let i = 0; i < 100; i++) {
      if (readFileSync(path.join(cg, 'cgroup.procs'), 'utf8').trim() === '') break;
      await sleep(100);
    }
    rmdirSync(cg);
  }
}

/**
 * measureIdleOnce `reps` times, each with a new reader and new sleepers:
 * the first reads' medians and each one; the steady reads of every repetition.
 */
async function measureIdle(processes: number, reads: number, reps: number): Promise<IdleRow> {
  const firsts: TimedRead[] = [];
  const steady: TimedRead[] = [];
  let tasks = 0;
  for (let i = 0; i < reps; i++) {
    const r = await measureIdleOnce(processes, reads);
    tasks = totalTasks();
    firsts.push(r.first);
    steady.push(...r.steady);
  }
  return {
    processes,
    tasks,
    first: {
      wallMs: median(firsts.map((x) => x.wallMs)),
      nodeCpuMs: median(firsts.map((x) => x.nodeCpuMs)),
      procEntries: Math.max(...firsts.map((x) => x.procEntries)),
      wallMsRuns: firsts.map((x) => x.wallMs),
      steps: medianSteps(firsts.map((x) => x.steps)),
    },
    steady: {
      wallMs: median(steady.map((x) => x.wallMs)),
      nodeCpuMs: median(steady.map((x) => x.nodeCpuMs)),
      wallMsRuns: steady.map((x) => x.wallMs),
      procEntries: Math.max(...steady.map((x) => x.procEntries)),
    },
  };
}

export async function scale(opts: {
  sizes: number[];
  idleSizes: number[];
  reads: number;
  idleReps?: number;
  log: (s: string) => void;
}): Promise<ScaleResult> {
  const idle: IdleRow[] = [];
  for (const n of opts.idleSizes) {
    const row = await measureIdle(n, Math.max(5, opts.reads), opts.idleReps ?? 3);
    opts.log(`scale: ${n} idle processes: first read ${row.first.wallMs.toFixed(1)} ms, steady ${row.steady.wallMs.toFixed(1)} ms`);
    idle.push(row);
  }
  const rows: ScaleRow[] = [];
  const skipped: ScaleResult['skipped'] = [];
  for (const spread of [false, true]) {
    let slow: ScaleRow | undefined;
    for (const n of opts.sizes) {
      const processes = spread ? n : 1;
      if (slow) {
        skipped.push({ threads: n, processes, reason: `a read with ${slow.threads} threads took ${slow.wallMs.toFixed(0)} ms` });
        continue;
      }
      const row = await measure(n, processes, opts.reads);
      opts.log(`scale: ${n} threads in ${row.processes} process(es): read ${row.wallMs.toFixed(1)} ms`);
      rows.push(row);
      if (row.wallMs > TOO_SLOW_MS) slow = row;
    }
  }
  return { reads: opts.reads, rows, idle, skipped };
}
