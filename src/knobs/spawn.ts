/**
 * The commands that change a task's affinity or pages (taskset,
 * migratepages) and recipe hooks: run without a shell, stdin closed, stdout
 * discarded, stderr kept, ended after a timeout. Built on node:child_process,
 * not execa: a run --watch spawns one per thread it moves, and each execa
 * call allocated about 260 KB (its stream iterators' queues, its option
 * objects; 28 KB here, both measured with V8's sampling heap profiler over
 * 300 taskset calls), much of it alive long enough to be promoted to the
 * old generation, where it piled up between full collections.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface SpawnResult {
  /** It did not start, exited non-zero, was killed or timed out. */
  failed: boolean;
  timedOut: boolean;
  exitCode: number | undefined;
  stderr: string;
  /** The spawn error (ENOENT: not installed). */
  cause?: unknown;
}

/** Commands still running, ended if tuner exits first. */
const live = new Set<ChildProcess>();
let exitHook = false;

/** Run argv to completion; never rejects. */
export function runCommand(argv: readonly string[], timeoutMs: number): Promise<SpawnResult> {
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGTERM');
    });
  }
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], shell: false });
    live.add(child);
    let stderr = '';
    let timedOut = false;
    let done = false;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      if (stderr.length < 65_536) stderr += s;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);
    const finish = (r: Omit<SpawnResult, 'stderr' | 'timedOut'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      live.delete(child);
      resolve({ ...r, failed: r.failed || timedOut, timedOut, stderr });
    };
    child.once('error', (cause) => finish({ failed: true, exitCode: undefined, cause }));
    child.once('close', (code) => finish({ failed: code !== 0, exitCode: code ?? undefined }));
  });
}
