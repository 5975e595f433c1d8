/**
 * Every process the benchmark starts goes through here: it is tracked by
 * PID and ended at cleanup if still running. Nothing is ever signalled by
 * name, only the PIDs started here.
 */
import { readFileSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import { onCleanup } from './cleanup.js';

export type Child = ResultPromise<{ reject: false; buffer: false; stdin: 'ignore'; stdout: 'pipe'; stderr: 'pipe' }>;

const live = new Set<Child>();
let cleanupInstalled = false;

/** Whether a PID has ended: gone, or a zombie nobody has reaped yet (the event loop is blocked during cleanup). */
function ended(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/**
 * End what is still running: SIGTERM first, so a tuner reverts its changes
 * and removes its pins, then SIGKILL what is left after `graceMs`. It blocks
 * (cleanup handlers also run from 'exit', where nothing asynchronous runs).
 */
export function endAll(
  children: Iterable<{ pid?: number; exitCode: number | null; kill: (s: NodeJS.Signals) => boolean }>,
  graceMs = 5000,
): void {
  const running = [...children].filter((c) => c.exitCode === null && c.pid !== undefined);
  for (const c of running) c.kill('SIGTERM');
  const deadline = Date.now() + graceMs;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (running.some((c) => !ended(c.pid!)) && Date.now() < deadline) Atomics.wait(nap, 0, 0, 50);
  for (const c of running) if (!ended(c.pid!)) c.kill('SIGKILL');
}

function track(child: Child): void {
  if (!cleanupInstalled) {
    cleanupInstalled = true;
    onCleanup(() => endAll(live));
  }
  live.add(child);
  void child.then(() => live.delete(child));
}

/** Start a long-running process with piped stdout/stderr; `child` resolves (never rejects) when it ends. */
/** Start a command; `env` adds to the environment, and a variable set to undefined is left out. */
export function start(file: string, args: readonly string[], env: Record<string, string | undefined> = {}): Child {
  const child = execa(file, args, {
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, ...env },
  }) as Child;
  track(child);
  return child;
}

/** Run to completion; throws with the command, exit code and stderr when it fails. */
export async function run(file: string, args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const r = await execa(file, args, { reject: false, timeout: opts.timeoutMs ?? 120_000, stripFinalNewline: false });
  if (r.failed) {
    throw new Error(`${[file, ...args].join(' ')} failed (exit code ${r.exitCode ?? r.signal}): ${String(r.stderr).trim().slice(0, 500)}`);
  }
  return String(r.stdout);
}

/** Run to completion and return stdout and the exit code, whatever it is (for tools whose exit code is unreliable). */
export async function runLoose(file: string, args: readonly string[]): Promise<{ stdout: string; exitCode: number | undefined }> {
  const r = await execa(file, args, { reject: false, timeout: 60_000 });
  return { stdout: String(r.stdout), exitCode: r.exitCode };
}

/** Hand each stdout line of a child to onLine (with its arrival time); resolves when onLine returns true or stdout ends. */
export function lines(child: Child, onLine: (line: string, atNs: bigint) => boolean | void): Promise<void> {
  return new Promise((resolve) => {
    let buf = '';
    let done = false;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      if (done) return; // keep draining the pipe, so the child never blocks on a full one
      const at = process.hrtime.bigint();
      buf += chunk;
      let nl;
      while (!done && (nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (onLine(line, at) === true) {
          done = true;
          resolve();
        }
      }
    });
    child.stdout!.on('end', () => resolve());
  });
}

/** Collect stderr text (bounded), for error messages. */
export function stderrOf(child: Child): () => string {
  let text = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => {
    if (text.length < 20_000) text += c;
  });
  return () => text;
}

/** Stop a child: `signal` first, SIGKILL after `graceMs`; resolves when it has exited. */
export async function stop(child: Child, signal: NodeJS.Signals = 'SIGINT', graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) {
    await child;
    return;
  }
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child;
  clearTimeout(timer);
}
