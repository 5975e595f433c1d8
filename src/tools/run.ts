/**
 * The one place tuner starts bpftool and bpftrace. Every failure becomes a
 * ToolError carrying argv, exit code and stderr; a missing binary gets a hint.
 *
 * Built on node:child_process, not execa: importing execa took 130 ms of a
 * 0.8 s start-up on the project's VM (measured by `npm run bench`), and these
 * two functions need none of it. Like execa's `cleanup`, tools still running
 * when tuner exits are killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { ToolError } from '../errors.js';
import { readStat } from '../procfs/pid.js';

export interface RunOptions {
  /** Kill the tool after this long (default 60 s). */
  timeoutMs?: number;
  input?: string | StreamedInput;
  /** Aborting kills the tool (SIGKILL); the promise settles once it is gone. */
  signal?: AbortSignal;
  /** Told the tool's PID once it is started. */
  onSpawn?: (pid: number) => void;
}

/** Standard input in two parts: `first` is written at once, `rest` when it resolves, then stdin closes. */
export interface StreamedInput {
  first: string;
  rest: Promise<string>;
}

const SETUP_HINT = 'run `sudo scripts/setup.sh`, then `tuner doctor`';

/** Children still running, killed if tuner exits first. */
const live = new Set<ChildProcess>();
let cleanupInstalled = false;

function track(child: ChildProcess): void {
  if (!cleanupInstalled) {
    cleanupInstalled = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGTERM');
    });
  }
  live.add(child);
  child.once('close', () => live.delete(child));
  child.once('error', () => live.delete(child));
}

/**
 * The environment of bpftool and bpftrace: glibc's malloc asks for
 * transparent huge pages (`glibc.malloc.hugetlb=1`, glibc 2.35+; older ones
 * ignore it, and so does a kernel with THP off). Both read the kernel's BTF,
 * megabytes, into fresh memory at every start, and on a VM where each page
 * fault is dear that dominated the load: 3,000 faults and 135 ms of CPU for
 * the scheduler object, 950 and 85 ms with it. A caller's own choice of that
 * tunable is kept.
 */
export function toolEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const tunables = env.GLIBC_TUNABLES;
  if (tunables?.includes('glibc.malloc.hugetlb=')) return env;
  return { ...env, GLIBC_TUNABLES: tunables ? `${tunables}:glibc.malloc.hugetlb=1` : 'glibc.malloc.hugetlb=1' };
}

const notFound = (err: unknown): boolean => (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

/** Run a tool to completion and return its stdout; throw ToolError on any failure. */
export function runTool(file: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const argv = [file, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: toolEnv(process.env),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    track(child);
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, options.timeoutMs ?? 60_000);
    const fail = (details: ConstructorParameters<typeof ToolError>[1]): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new ToolError(argv, details));
    };
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    const input = options.input;
    if (input !== undefined) {
      child.stdin!.on('error', () => {
        /* the tool exited without reading: its exit status tells why */
      });
      if (typeof input === 'string') child.stdin!.end(input);
      else {
        child.stdin!.write(input.first);
        void input.rest.then((rest) => child.stdin!.end(rest));
      }
    }
    const abort = (): void => void child.kill('SIGKILL');
    options.signal?.addEventListener('abort', abort, { once: true });
    child.once('close', () => options.signal?.removeEventListener('abort', abort));
    child.once('error', (cause) => {
      const missing = notFound(cause);
      fail({ stderr: missing ? `${file}: command not found` : String(cause), cause, hint: missing ? SETUP_HINT : undefined });
    });
    child.once('close', (code, signal) => {
      if (settled) return;
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0 && !timedOut) {
        settled = true;
        clearTimeout(timer);
        resolve(Buffer.concat(out).toString('utf8'));
      } else if (timedOut) {
        fail({ stderr: `timed out after ${options.timeoutMs ?? 60_000} ms\n${stderr}`, signal: signal ?? undefined });
      } else {
        fail({ exitCode: code ?? undefined, stderr, signal: signal ?? undefined });
      }
    });
  });
}

/** How a long-running tool ended (the promise never rejects). */
export interface ToolExit {
  exitCode: number | undefined;
  signal?: NodeJS.Signals;
  /** The spawn error, when it could not be started. */
  cause?: unknown;
}

/** A started tool: its streams and PID, and a promise of how it ended. */
export type ToolChild = Promise<ToolExit> & {
  pid: number | undefined;
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  kill(signal?: NodeJS.Signals): boolean;
};

export interface LongRunning {
  child: ToolChild;
  argv: readonly string[];
}

/**
 * Start a long-running tool with piped stdio (bpftool batch, bpftrace). The
 * caller reads child.stdout; `child` resolves (never rejects) when it ends.
 */
export function startTool(file: string, args: readonly string[], options: { stdin?: 'pipe' | 'ignore' } = {}): LongRunning {
  const cp = spawn(file, args, { env: toolEnv(process.env), stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] });
  track(cp);
  const ended = new Promise<ToolExit>((resolve) => {
    cp.once('error', (cause) => resolve({ exitCode: undefined, cause }));
    cp.once('close', (code, signal) => resolve({ exitCode: code ?? undefined, signal: signal ?? undefined }));
  });
  const child = Object.assign(ended, {
    pid: cp.pid,
    stdin: cp.stdin,
    stdout: cp.stdout,
    stderr: cp.stderr,
    kill: (signal?: NodeJS.Signals) => cp.kill(signal),
  });
  return { child, argv: [file, ...args] };
}

/**
 * Kill a child of this process and wait, synchronously (an exit handler can
 * not await), until it is a zombie or gone: from then on it makes nothing,
 * such as a pin the cleanup would miss. Gives up after `timeoutMs`.
 */
export function killAndWait(pid: number, timeoutMs = 2000): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // already gone
  }
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (const end = Date.now() + timeoutMs; Date.now() < end; Atomics.wait(nap, 0, 0, 1)) {
    const st = readStat(pid);
    if (!st || st.state === 'Z') return;
  }
}

export { SETUP_HINT };
