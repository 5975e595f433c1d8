/**
 * A `tuner run --json` started from a test: its events as they arrive, and
 * waiting for one. Only the process the test started is ever signalled.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { readStat, type PidStat } from '../../src/procfs/pid.js';
import { CLI, tuner } from './cli.js';

export interface TunerRun {
  proc: ReturnType<typeof tuner>;
  /** When it was started (ms since the epoch). */
  started: number;
  events: Array<Record<string, any> & { at: number }>;
  /** Resolve with the first event (already seen or to come) matching `pred`. */
  waitFor(pred: (e: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any> & { at: number }>;
  stderr(): string;
}

/** Runs started by startTuner() and not yet ended: stopTuners() ends them. */
const liveRuns = new Set<ReturnType<typeof tuner>>();

/**
 * End every run this test started that is still running (a test that failed
 * half-way leaves one): SIGTERM, so it reverts and unpins as a user's Ctrl-C
 * would, then SIGKILL after `graceMs`. Returns how many were still running.
 */
export async function stopTuners(graceMs = 10_000): Promise<number> {
  const live = [...liveRuns].filter((p) => p.exitCode === null && p.signalCode === null);
  liveRuns.clear();
  await Promise.all(
    live.map(async (p) => {
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
      await p.catch(() => undefined);
      clearTimeout(timer);
    }),
  );
  return live.length;
}

/** `wrap` runs it under a command that execs it (e.g. setpriv dropping a capability): the PID stays the tuner's. */
export function startTuner(args: string[], env: Record<string, string>, wrap: string[] = []): TunerRun {
  const opts = { env, buffer: false, stdout: 'pipe', stderr: 'pipe' } as const;
  const proc = (
    wrap.length > 0
      ? execa(wrap[0]!, [...wrap.slice(1), process.execPath, CLI, ...args, '--json'], { reject: false, ...opts })
      : tuner([...args, '--json'], opts)
  ) as ReturnType<typeof tuner>;
  liveRuns.add(proc);
  void proc.catch(() => undefined).finally(() => liveRuns.delete(proc));
  const started = Date.now();
  const events: TunerRun['events'] = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  let err = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (c: string) => {
    buf += c;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) events.push({ ...JSON.parse(line), at: Date.now() });
    }
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (c: string) => (err += c));
  return {
    proc,
    started,
    events,
    stderr: () => err,
    waitFor(pred, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = events.find(pred);
          if (hit) {
            clearTimeout(timer);
            resolve(hit);
            return true;
          }
          return false;
        };
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no matching event within ${timeoutMs} ms; processes: ${processTree(proc.pid)}; events: ${JSON.stringify(events).slice(0, 2000)}; stderr: ${err}`,
              ),
            ),
          timeoutMs,
        );
        if (check()) return;
        const again = (): void => {
          if (!check()) waiters.push(again);
        };
        waiters.push(again);
        void proc.then(() =>
          setTimeout(
            () => check() || reject(new Error(`tuner exited (code ${proc.exitCode}) before a matching event; stderr: ${err}`)),
            50,
          ),
        );
      });
    },
  };
}

/** Poll until fn() is truthy; on a timeout, the error includes `detail()` (a run's events, say). */
export async function until<T>(
  fn: () => T | undefined | false,
  timeoutMs = 30_000,
  what = 'condition',
  detail?: () => unknown,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${detail ? `: ${JSON.stringify(detail()).slice(0, 3000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A fresh journal directory for one test (TUNER_JOURNAL_DIR). */
export function journalDir(): { dir: string; files(): string[]; remove(): void } {
  const root = mkdtempSync(path.join(tmpdir(), 'tuner-journal-'));
  const dir = path.join(root, 'journal');
  return {
    dir,
    files: () => {
      try {
        return readdirSync(dir).filter((f) => f.endsWith('.json'));
      } catch {
        return [];
      }
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * Where a run that says nothing is: the process and each descendant with its
 * state, kernel wait channel and command line ("12 S hrtimer_nanosleep node
 * dist/cli.js run ..."), so a timeout names the step that hangs (a loader in
 * D state, say). Only reads /proc.
 */
export function processTree(root: number | undefined): string {
  if (root === undefined) return 'none';
  const read = (f: string): string => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  const stats = new Map<number, PidStat>();
  for (const d of readdirSync('/proc')) {
    const st = /^\d+$/.test(d) ? readStat(Number(d)) : undefined;
    if (st) stats.set(Number(d), st);
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && hops < 64; p = stats.get(p)?.ppid, hops++)
      if (p === root) return true;
    return false;
  };
  const lines = [...stats]
    .filter(([pid]) => inTree(pid))
    .map(([pid, st]) => {
      const wchan = read(`/proc/${pid}/wchan`) || '-';
      const cmd = read(`/proc/${pid}/cmdline`).split('\0').join(' ').trim().slice(0, 100);
      return `${pid} ${st.state} ${wchan} ${cmd}`;
    });
  return lines.length > 0 ? lines.join(' | ') : `${root} gone`;
}
