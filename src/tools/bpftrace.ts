/**
 * Run a bpftrace script with NDJSON output (`-f json`, line-buffered) and
 * hand each record to a callback. Resolves once the probes are attached and
 * the script's BEGIN has printed `readyMarker`; rejects with a ToolError
 * (argv, exit code, stderr) if bpftrace ends before that.
 */
import { KernelError, ToolError } from '../errors.js';
import { BPFTRACE_STRUCT_FIX, bpftraceStructFailure } from '../signals/backend.js';
import { readNdjson, type NdjsonStats } from './ndjson.js';
import { startTool, SETUP_HINT, type LongRunning } from './run.js';

export interface BpftraceRecord {
  type: string;
  data: unknown;
}

export interface BpftraceRun {
  pid: number | undefined;
  stats: NdjsonStats;
  /** Ask bpftrace to stop (its END block runs) and wait for it to exit. */
  stop(): Promise<void>;
  /** Kill it now, synchronously (exit handlers). */
  kill(): void;
  /** Resolves when bpftrace has exited. */
  exited: Promise<{ exitCode: number | undefined; stderr: string }>;
}

/** Lines bpftrace prints on stderr that are noise on this kind of host (RLIMIT_MEMLOCK cannot be raised). */
const HARMLESS = /couldn't set RLIMIT_MEMLOCK/;

export async function runBpftrace(opts: {
  program: string;
  args: string[];
  readyMarker: string;
  onRecord: (r: BpftraceRecord) => void;
  onBadLine?: (line: string) => void;
  timeoutMs?: number;
}): Promise<BpftraceRun> {
  const argv = ['-B', 'line', '-f', 'json', '-e', opts.program, ...opts.args];
  let proc: LongRunning;
  try {
    proc = startTool('bpftrace', argv);
  } catch (err) {
    throw new ToolError(['bpftrace', ...argv], { cause: err, hint: SETUP_HINT });
  }
  const shownArgv = ['bpftrace', '-B', 'line', '-f', 'json', '-e', '<probe>', ...opts.args];
  let stderr = '';
  proc.child.stderr?.setEncoding('utf8');
  proc.child.stderr?.on('data', (c: string) => {
    stderr += c;
  });
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const { stats } = readNdjson(
    proc.child.stdout!,
    (v) => {
      const rec = v as BpftraceRecord;
      if (rec.type === 'printf' && typeof rec.data === 'string' && rec.data.startsWith(opts.readyMarker)) ready();
      opts.onRecord(rec);
    },
    (line) => opts.onBadLine?.(line),
  );
  const exited = proc.child.then((r) => ({
    exitCode: r.exitCode,
    stderr: stderr
      .split('\n')
      .filter((l) => l && !HARMLESS.test(l))
      .join('\n'),
  }));
  const timeout = opts.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    readyP.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeout))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    proc.child.kill('SIGKILL');
    const e = await exited;
    const structs = bpftraceStructFailure(e.stderr);
    if (structs) throw new KernelError(structs, { hint: `${BPFTRACE_STRUCT_FIX}; see tuner doctor` });
    throw new ToolError(shownArgv, {
      exitCode: e.exitCode,
      stderr: outcome === 'timeout' ? `no output within ${timeout} ms\n${e.stderr}` : e.stderr,
      hint: 'tuner doctor',
    });
  }
  return {
    pid: proc.child.pid,
    stats,
    exited,
    kill: () => {
      proc.child.kill('SIGKILL');
    },
    stop: async () => {
      proc.child.kill('SIGINT');
      const t = setTimeout(() => proc.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
