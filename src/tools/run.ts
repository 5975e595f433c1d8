/**
 * The one place tuner starts bpftool and bpftrace. Every failure becomes a
 * ToolError carrying argv, exit code and stderr; a missing binary gets a hint.
 */
import { execa, type ResultPromise } from 'execa';
import { ToolError } from '../errors.js';

export interface RunOptions {
  /** Kill the tool after this long (default 60 s). */
  timeoutMs?: number;
  input?: string;
}

const SETUP_HINT = 'run `sudo scripts/setup.sh`, then `tuner doctor`';

/** Run a tool to completion and return its stdout; throw ToolError on any failure. */
export async function runTool(file: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const argv = [file, ...args];
  const result = await execa(file, args, {
    reject: false,
    timeout: options.timeoutMs ?? 60_000,
    input: options.input,
    stripFinalNewline: false,
    maxBuffer: 512 * 1024 * 1024,
  });
  if (result.failed) {
    const notFound = (result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    throw new ToolError(argv, {
      exitCode: result.exitCode,
      stderr: notFound ? `${file}: command not found` : result.stderr,
      signal: result.isTerminated ? result.signal : undefined,
      cause: result.cause,
      hint: notFound ? SETUP_HINT : undefined,
    });
  }
  return result.stdout;
}

type LongOptions = { reject: false; buffer: false; stdin: 'pipe' | 'ignore'; stdout: 'pipe'; stderr: 'pipe'; cleanup: true };

export interface LongRunning {
  child: ResultPromise<LongOptions>;
  argv: readonly string[];
}

/**
 * Start a long-running tool with piped stdio (bpftool batch, bpftrace). The
 * caller reads child.stdout; `child` resolves (never rejects) when it ends.
 */
export function startTool(file: string, args: readonly string[], options: { stdin?: 'pipe' | 'ignore' } = {}): LongRunning {
  const opts: LongOptions = { reject: false, buffer: false, stdin: options.stdin ?? 'ignore', stdout: 'pipe', stderr: 'pipe', cleanup: true };
  const child = execa(file, args, opts);
  return { child, argv: [file, ...args] };
}

export { SETUP_HINT };
