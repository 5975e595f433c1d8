/**
 * KnobIo on the real host: files through the file system with a timeout on
 * every write (a cgroup write can block on kernel locks: senpai and oomd
 * bound theirs too), affinity through `taskset` (util-linux; Node has no
 * sched_setaffinity), hooks as argument arrays without a shell.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { canonicalCpuList } from '../topology/cpulist.js';
import { hookArgv, KnobGone, KnobTimeout, type KnobIo, type KnobRef } from './knob.js';
import { threadStart } from '../host/procfs.js';

export const DEFAULT_WRITE_TIMEOUT_MS = 2000;

const norm = (s: string): string => s.trim().replace(/\s+/g, ' ');

function gone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'ENODEV';
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KnobTimeout(`${what}: no answer after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function affinityOf(k: Extract<KnobRef, { kind: 'affinity' }>, procRoot: string): string {
  if (threadStart(k.pid, k.tid, procRoot) !== k.start) throw new KnobGone(`thread ${k.tid} of pid ${k.pid} is gone`);
  let status: string;
  try {
    status = readFileSync(`${procRoot}/${k.pid}/task/${k.tid}/status`, 'utf8');
  } catch (err) {
    throw gone(err) ? new KnobGone(`thread ${k.tid} of pid ${k.pid} is gone`) : err;
  }
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(status);
  if (!m) throw new Error(`no Cpus_allowed_list in ${procRoot}/${k.pid}/task/${k.tid}/status`);
  return canonicalCpuList(m[1]!);
}

export class RealIo implements KnobIo {
  /** Hook levels live here: a hook has no state tuner can read back. */
  private levels = new Map<string, string>();

  constructor(
    private readonly timeoutMs = DEFAULT_WRITE_TIMEOUT_MS,
    private readonly procRoot = '/proc',
  ) {}

  async read(k: KnobRef): Promise<string> {
    if (k.kind === 'file') {
      try {
        return norm(await withTimeout(readFile(k.path, 'utf8'), this.timeoutMs, `reading ${k.path}`));
      } catch (err) {
        throw gone(err) ? new KnobGone(`${k.path} is gone`) : err;
      }
    }
    return this.readSync(k);
  }

  readSync(k: KnobRef): string {
    switch (k.kind) {
      case 'file':
        try {
          return norm(readFileSync(k.path, 'utf8'));
        } catch (err) {
          throw gone(err) ? new KnobGone(`${k.path} is gone`) : err;
        }
      case 'affinity':
        return affinityOf(k, this.procRoot);
      case 'hook':
        return this.levels.get(k.id) ?? '0';
    }
  }

  async write(k: KnobRef, value: string): Promise<void> {
    switch (k.kind) {
      case 'file':
        try {
          // 'r+': never create a file that is not there.
          await withTimeout(writeFile(k.path, value, { flag: 'r+' }), this.timeoutMs, `writing ${value} to ${k.path}`);
        } catch (err) {
          throw gone(err) ? new KnobGone(`${k.path} is gone`) : err;
        }
        return;
      case 'affinity': {
        affinityOf(k, this.procRoot); // throws KnobGone for a thread that exited or a reused TID
        const r = await execa('taskset', ['-p', '-c', value, String(k.tid)], { reject: false, timeout: this.timeoutMs });
        if (r.timedOut) throw new KnobTimeout(`taskset -p -c ${value} ${k.tid}: no answer after ${this.timeoutMs} ms`);
        if (r.failed) {
          if (threadStart(k.pid, k.tid, this.procRoot) !== k.start) throw new KnobGone(`thread ${k.tid} of pid ${k.pid} is gone`);
          throw new Error(`taskset -p -c ${value} ${k.tid} failed: ${String(r.stderr).trim() || `exit ${r.exitCode}`}`);
        }
        return;
      }
      case 'hook': {
        const argv = hookArgv(k.argv, { level: value });
        const r = await execa(argv[0]!, argv.slice(1), { reject: false, timeout: k.timeoutMs, shell: false, stdin: 'ignore' });
        if (r.timedOut) throw new KnobTimeout(`hook ${argv.join(' ')}: no answer after ${k.timeoutMs} ms`);
        if (r.failed) throw new Error(`hook ${argv.join(' ')} failed: ${String(r.stderr).trim().split('\n').slice(-1)[0] || `exit ${r.exitCode}`}`);
        this.levels.set(k.id, value);
        return;
      }
    }
  }

  writeSync(k: KnobRef, value: string): void {
    switch (k.kind) {
      case 'file':
        try {
          writeFileSync(k.path, value, { flag: 'r+' });
        } catch (err) {
          throw gone(err) ? new KnobGone(`${k.path} is gone`) : err;
        }
        return;
      case 'affinity':
        affinityOf(k, this.procRoot);
        execFileSync('taskset', ['-p', '-c', value, String(k.tid)], { timeout: this.timeoutMs, stdio: 'ignore' });
        return;
      case 'hook': {
        const argv = hookArgv(k.argv, { level: value });
        execFileSync(argv[0]!, argv.slice(1), { timeout: k.timeoutMs, stdio: 'ignore' });
        this.levels.set(k.id, value);
        return;
      }
    }
  }
}
