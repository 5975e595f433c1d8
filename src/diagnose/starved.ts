/**
 * Threads that wait for a CPU and never get one. The kernel (schedstat's
 * run_delay) and the sched probe account a run-queue wait only when the task
 * is switched in, so a thread that stays queued until the window ends shows
 * no wait at all. Sampling every target thread's state and schedstat a few
 * times in the window finds them: a thread in state R at consecutive samples
 * whose on-CPU time and timeslice count did not change was queued, and never
 * ran, all that time (a thread can only leave R by running). That trailing
 * stretch is the wait nobody has accounted yet.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseStat } from '../procfs/pid.js';

/** At most this many threads are sampled (each costs two small /proc reads per sample). */
export const MAX_SAMPLED_THREADS = 512;

export interface ThreadSample {
  /** Field 3 of /proc/PID/task/TID/stat. */
  state: string;
  /** /proc/PID/task/TID/schedstat: on-CPU ns and timeslices (times switched in). */
  oncpuNs: number;
  slices: number;
}

export interface Sample {
  atMs: number;
  threads: Map<number, ThreadSample>;
}

export interface Starvation {
  /** Threads sampled at the start of the window. */
  sampled: number;
  /** Threads queued, and never run, from some sample to the end of the window. */
  threads: number;
  /** Of those, the ones queued the whole window (from the first sample to the last). */
  wholeWindow: number;
  /** Their queued time from that sample to the last one, each capped at the window: no one has accounted it yet. */
  waitNs: number;
}

function readThread(tid: number): ThreadSample | undefined {
  try {
    // /proc/TID/task/TID works for any thread id, the group leader's or not.
    const base = `/proc/${tid}/task/${tid}`;
    const stat = parseStat(readFileSync(`${base}/stat`, 'utf8'));
    const [on, , slices] = readFileSync(`${base}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    if (!stat || !Number.isFinite(on) || !Number.isFinite(slices)) return undefined;
    return { state: stat.state, oncpuNs: on!, slices: slices! };
  } catch {
    return undefined; // the thread exited
  }
}

/** The thread ids of a process, or of every process in a cgroup subtree (v1 `tasks`, v2 `cgroup.threads`). */
export function targetThreads(target: { pid: number } | { cgroupDir: string }, limit = MAX_SAMPLED_THREADS): number[] {
  const out: number[] = [];
  if ('pid' in target) {
    try {
      for (const t of readdirSync(`/proc/${target.pid}/task`)) if (out.length < limit) out.push(Number(t));
    } catch {
      /* the process exited */
    }
    return out;
  }
  const walk = (dir: string): void => {
    if (out.length >= limit) return;
    for (const file of ['tasks', 'cgroup.threads']) {
      try {
        for (const t of readFileSync(path.join(dir, file), 'utf8').split('\n'))
          if (t && out.length < limit && !out.includes(Number(t))) out.push(Number(t));
        break;
      } catch {
        /* not this version's file */
      }
    }
    try {
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(dir, e.name));
    } catch {
      /* removed meanwhile */
    }
  };
  walk(target.cgroupDir);
  return out;
}

/** One sample of the given threads (those that still exist). */
export function sampleThreads(tids: readonly number[], atMs = Date.now()): Sample {
  const threads = new Map<number, ThreadSample>();
  for (const tid of tids) {
    const s = readThread(tid);
    if (s) threads.set(tid, s);
  }
  return { atMs, threads };
}

const same = (a: ThreadSample, b: ThreadSample): boolean =>
  a.state === 'R' && b.state === 'R' && a.oncpuNs === b.oncpuNs && a.slices === b.slices;

/**
 * From samples in time order (the first at the window's start, the last at its
 * end): each thread's trailing stretch queued without running, capped at windowMs.
 */
export function starvation(samples: readonly Sample[], windowMs: number): Starvation {
  const first = samples[0];
  const last = samples.at(-1);
  const out: Starvation = { sampled: first?.threads.size ?? 0, threads: 0, wholeWindow: 0, waitNs: 0 };
  if (!first || !last || samples.length < 2) return out;
  for (const [tid, end] of last.threads) {
    if (!first.threads.has(tid) || end.state !== 'R') continue;
    let k = samples.length - 1;
    while (k > 0) {
      const prev = samples[k - 1]!.threads.get(tid);
      if (!prev || !same(prev, end)) break;
      k--;
    }
    if (k === samples.length - 1) continue;
    out.threads++;
    if (k === 0) out.wholeWindow++;
    out.waitNs += Math.min(last.atMs - samples[k]!.atMs, windowMs) * 1e6;
  }
  return out;
}
