/**
 * Agent cost in user space: CPU time and peak memory of the whole
 * `tuner watch sched` process tree (node, the bpftool batch, and helpers
 * that already exited, through their parent's cutime/cstime), sampled every
 * second: as an agent runs it (--json, records to a pipe) over a window with
 * the machine idle, then over one with `perf bench sched pipe` running
 * (cross-cpu: each CPU busy part of the time); then a shorter idle window of
 * the table view a person watches. Then `tuner agent` itself (no recipes,
 * metrics served, scraped once a second like a Prometheus would): with its
 * default signals (sched, futex, psi) and with every signal on (sched,
 * futex, io, net, psi), idle and under the same load, each window cut in
 * three equal parts (median and range reported).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pinDir } from '../lib/attach.js';
import { CLI } from '../lib/paths.js';
import { pipeLoad } from '../lib/perf.js';
import { sampleTree, type TreeSample } from '../lib/proc.js';
import { lines, start, stderrOf, stop } from '../lib/spawn.js';
import { summarize, type Summary } from '../lib/stats.js';

export interface WindowResult {
  seconds: number;
  cpuSeconds: number;
  /** CPU time over wall time, in percent of one CPU. */
  cpuPercent: number;
  /** Largest sum of the tree's VmHWM seen in the window (MB), and each process's VmHWM at its end. */
  peakRssMb: number;
  perProcess: Array<{ pid: number; comm: string; hwmMb: number; cpuSeconds: number }>;
  samples: number;
}

export interface AgentResult {
  intervalMs: number;
  /** `tuner watch sched --json --interval 1s`, records to a pipe (how an always-on agent runs). */
  idle: WindowResult;
  load: WindowResult;
  /** `tuner watch sched --interval 1s` drawing its table view, idle (how a person watches). */
  view: WindowResult;
  /** `tuner agent`, scraped every second. */
  daemon?: DaemonResult;
}

export interface DaemonWindow {
  signals: string[];
  load: boolean;
  /** io and net read through bpftool's JSON, not their dump iterators (TUNER_MAP_READS=bpftool): the comparison. */
  bpftoolReads?: boolean;
  /** The three parts of the window. */
  parts: WindowResult[];
  cpuPercent: Summary;
  peakRssMb: number;
  /** What the agent reports about itself at the end (tuner_agent_resident_memory_bytes), MB. */
  selfRssMb: number;
}

export interface DaemonResult {
  windows: DaemonWindow[];
}

const MB = 1024;

async function window(root: number, seconds: number): Promise<WindowResult> {
  const first = sampleTree(root);
  let peak = first.hwmKb;
  let last: TreeSample = first;
  const end = first.atMs + seconds * 1000;
  let n = 1;
  for (let k = 1; ; k++) {
    const due = first.atMs + k * 1000;
    if (due > end) break;
    await sleep(Math.max(0, due - performance.now()));
    last = sampleTree(root);
    peak = Math.max(peak, last.hwmKb);
    n++;
  }
  const wall = (last.atMs - first.atMs) / 1000;
  const cpu = last.cpuS - first.cpuS;
  const startOf = new Map(first.procs.map((p) => [p.pid, p.cpuS + p.childrenCpuS]));
  return {
    seconds: wall,
    cpuSeconds: cpu,
    cpuPercent: (100 * cpu) / wall,
    peakRssMb: peak / MB,
    perProcess: last.procs.map((p) => ({
      pid: p.pid,
      comm: p.comm,
      hwmMb: p.hwmKb / MB,
      cpuSeconds: p.cpuS + p.childrenCpuS - (startOf.get(p.pid) ?? 0),
    })),
    samples: n,
  };
}

/** Start a tuner watch, wait for its first output and half an interval more, then measure windows of it. */
async function withTuner<T>(args: string[], f: (pid: number) => Promise<T>): Promise<T> {
  const dir = pinDir('agent');
  const tuner = start('node', [CLI, 'watch', 'sched', '--interval', '1s', ...args], { TUNER_PIN_ROOT: dir });
  const err = stderrOf(tuner);
  try {
    let started = false;
    await lines(tuner, () => (started = true));
    if (!started) throw new Error(`tuner watch sched ended before its first output: ${err().trim().slice(0, 800)}`);
    // Let the first interval's work settle, then measure whole intervals.
    await sleep(500);
    return await f(tuner.pid!);
  } finally {
    await stop(tuner, 'SIGINT');
  }
}

export async function agentCost(opts: {
  seconds: number;
  viewSeconds: number;
  daemonSeconds: number;
  log: (s: string) => void;
}): Promise<AgentResult> {
  const [idle, load] = await withTuner(['--json'], async (pid) => {
    opts.log(`agent: --json, idle window, ${opts.seconds} s`);
    const idle = await window(pid, opts.seconds);
    const perf = await pipeLoad('cross-cpu');
    try {
      await sleep(500);
      opts.log(`agent: --json, window under perf bench sched pipe, ${opts.seconds} s`);
      return [idle, await window(pid, opts.seconds)] as const;
    } finally {
      await perf.stop();
    }
  });
  opts.log(`agent: table view, idle window, ${opts.viewSeconds} s`);
  const view = await withTuner([], (pid) => window(pid, opts.viewSeconds));
  const daemon = await daemonCost({ seconds: opts.daemonSeconds, log: opts.log });
  return { intervalMs: 1000, idle, load, view, daemon };
}

const EVERY = ['sched', 'futex', 'io', 'net', 'psi'];
const DEFAULT = ['sched', 'futex', 'psi'];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Start `tuner agent` with these signals and no recipes, wait for /readyz, scrape it every second while `f` runs. */
async function withAgent<T>(
  signals: string[],
  env: Record<string, string>,
  f: (pid: number, scrape: () => Promise<string>) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tuner-bench-agent-'));
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'recipes'), { mode: 0o755 });
  const port = await freePort();
  const config = path.join(dir, 'agent.yaml');
  writeFileSync(
    config,
    `recipes: ${path.join(dir, 'recipes')}\ninterval: 1s\nsignals: [${signals.join(', ')}]\nmetrics:\n  listen: 127.0.0.1:${port}\n`,
  );
  const agent = start('node', [CLI, 'agent', '--config', config], { TUNER_PIN_ROOT: pinDir('agent-daemon'), ...env });
  const err = stderrOf(agent);
  void lines(agent, () => {}); // its JSON log: read and dropped
  const url = `http://127.0.0.1:${port}`;
  const scrape = async (): Promise<string> => (await fetch(`${url}/metrics`)).text();
  let scraping = true;
  try {
    for (let i = 0; ; i++) {
      if (agent.exitCode !== null) throw new Error(`tuner agent ended before it was ready: ${err().trim().slice(0, 800)}`);
      if (i > 240) throw new Error('tuner agent was not ready within 60 s');
      const ok = await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await sleep(250);
    }
    const scraper = (async () => {
      while (scraping) {
        await scrape().catch(() => '');
        await sleep(1000);
      }
    })();
    await sleep(1500);
    try {
      return await f(agent.pid!, scrape);
    } finally {
      scraping = false;
      await scraper;
    }
  } finally {
    await stop(agent, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function daemonWindow(
  signals: string[],
  load: boolean,
  bpftoolReads: boolean,
  seconds: number,
  log: (s: string) => void,
): Promise<DaemonWindow> {
  return withAgent(signals, bpftoolReads ? { TUNER_MAP_READS: 'bpftool' } : {}, async (pid, scrape) => {
    const perf = load ? await pipeLoad('cross-cpu') : undefined;
    try {
      if (perf) await sleep(500);
      log(
        `agent: tuner agent, signals ${signals.join(',')}${bpftoolReads ? ' (io, net read through bpftool)' : ''}, ${load ? 'under perf bench sched pipe' : 'idle'}, 3 x ${Math.round(seconds / 3)} s`,
      );
      const parts: WindowResult[] = [];
      for (let i = 0; i < 3; i++) parts.push(await window(pid, seconds / 3));
      const text = await scrape();
      const self = Number(/^tuner_agent_resident_memory_bytes (\S+)$/m.exec(text)?.[1] ?? NaN);
      return {
        signals,
        load,
        ...(bpftoolReads ? { bpftoolReads } : {}),
        parts,
        cpuPercent: summarize(parts.map((p) => p.cpuPercent)),
        peakRssMb: Math.max(...parts.map((p) => p.peakRssMb)),
        selfRssMb: self / 2 ** 20,
      };
    } finally {
      await perf?.stop();
    }
  });
}

/**
 * `tuner agent` with the default signals and with every signal, idle and
 * under load; then every signal idle again with io and net read through
 * bpftool's JSON instead of their dump iterators (what that saves, in the
 * same run).
 */
export async function daemonCost(opts: { seconds: number; log: (s: string) => void }): Promise<DaemonResult> {
  const windows: DaemonWindow[] = [];
  for (const [signals, load, bpftool] of [
    [DEFAULT, false, false],
    [EVERY, false, false],
    [EVERY, true, false],
    [EVERY, false, true],
  ] as const)
    windows.push(await daemonWindow([...signals], load, bpftool, opts.seconds, opts.log));
  return { windows };
}
