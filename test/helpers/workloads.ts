/**
 * Workloads the kernel tests start: small C programs from test/workloads/,
 * compiled once into .cache/workloads. Each prints `ready <pid>` when its
 * threads are running. Only PIDs we started are ever signalled.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = path.join(ROOT, '.cache', 'workloads');

/** Path of the compiled workload, compiling it when missing or older than its source. */
export function workload(name: string): string {
  const src = path.join(ROOT, 'test', 'workloads', `${name}.c`);
  const bin = path.join(CACHE, name);
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
    mkdirSync(CACHE, { recursive: true });
    execFileSync('cc', ['-O2', '-pthread', '-Wall', '-o', bin, src], { stdio: 'inherit' });
  }
  return bin;
}

export interface Running {
  pid: number;
  proc: ResultPromise;
  /** Lines the workload printed after `ready`. */
  output: string[];
  /** Write a line to its stdin (workloads that wait for "go"). */
  send(line: string): void;
  /** Wait for it to exit on its own; returns the lines it printed after `ready`. */
  done(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Start a workload and wait for its `ready <pid>` line: on these CPUs only when `cpus` is given
 * (taskset execs it, same PID), under these numactl options when `numa` is (e.g. --membind=1).
 */
export async function start(name: string, args: Array<string | number>, opts: { cpus?: string; numa?: string[] } = {}): Promise<Running> {
  const argv = args.map(String);
  const opt = { reject: false, stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' } as const;
  const proc =
    opts.numa !== undefined
      ? execa('numactl', [...opts.numa, workload(name), ...argv], opt)
      : opts.cpus === undefined
        ? execa(workload(name), argv, opt)
        : execa('taskset', ['-c', opts.cpus, workload(name), ...argv], opt);
  const output: string[] = [];
  let buf = '';
  const pid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not become ready`)), 10_000);
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (chunk: string) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^ready (\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        } else output.push(line);
      }
    });
    void proc.then(() => reject(new Error(`${name} exited before it was ready`)));
  });
  return {
    pid,
    proc,
    output,
    send(line: string) {
      proc.stdin!.write(line + '\n');
    },
    async done() {
      await proc;
      if (buf) output.push(buf);
      return output;
    },
    async stop() {
      if (proc.exitCode === null && proc.pid !== undefined) proc.kill('SIGKILL');
      await proc;
    },
  };
}
