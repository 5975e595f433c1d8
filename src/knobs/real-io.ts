/**
 * KnobIo on the real host: files through the file system with a timeout on
 * every write (a cgroup write can block on kernel locks: senpai and oomd
 * bound theirs too), affinity through `taskset` (util-linux; Node has no
 * sched_setaffinity), page placement through `migratepages` (numactl; no
 * migrate_pages(2) in Node either), hooks as argument arrays without a shell.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { canonicalCpuList, formatCpuList, parseCpuList } from '../topology/cpulist.js';
import { nodesWithPages, parseNumaMaps } from '../signals/numa/procfs.js';
import { hookArgv, KnobGone, KnobTimeout, knobLabel, type KnobIo, type KnobRef } from './knob.js';
import { threadStart } from '../host/procfs.js';
import { fileWriteError, toolWriteError } from './refused.js';
import { runCommand } from './spawn.js';

export const DEFAULT_WRITE_TIMEOUT_MS = 2000;

/** Moving a process's pages copies its memory: far slower than a file write. */
export const PAGES_TIMEOUT_MS = 60_000;

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

type PagesKnob = Extract<KnobRef, { kind: 'pages' }>;

/** The nodes holding the process's resident pages, as a node list ("" when it has none). */
function pagesOf(k: PagesKnob, procRoot: string): string {
  if (threadStart(k.pid, k.pid, procRoot) !== k.start) throw new KnobGone(`pid ${k.pid} is gone`);
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${k.pid}/numa_maps`, 'utf8');
  } catch (err) {
    throw gone(err) ? new KnobGone(`pid ${k.pid} is gone`) : err;
  }
  return nodesWithPages(parseNumaMaps(text));
}

/**
 * `migratepages PID FROM TO` that puts the pages on nodes outside `target`
 * onto `target`, or undefined when none is outside (nothing to move).
 */
export function migrateArgv(k: PagesKnob, current: string, target: string): string[] | undefined {
  const to = parseCpuList(target);
  if (to.length === 0) throw new Error(`pages of pid ${k.pid}: no node to move them to (${JSON.stringify(target)})`);
  const from = parseCpuList(current).filter((n) => !to.includes(n));
  return from.length === 0 ? undefined : ['migratepages', String(k.pid), formatCpuList(from), formatCpuList(to)];
}

function notInstalled(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

const NO_MIGRATEPAGES = 'migratepages (package numactl) is not installed: the pages were not moved (sudo scripts/setup.sh installs it)';

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
      case 'pages':
        return pagesOf(k, this.procRoot);
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
          if (gone(err)) throw new KnobGone(`${k.path} is gone`);
          throw err instanceof KnobTimeout ? err : fileWriteError(k.path, value, err);
        }
        return;
      case 'affinity': {
        affinityOf(k, this.procRoot); // throws KnobGone for a thread that exited or a reused TID
        const r = await runCommand(['taskset', '-p', '-c', value, String(k.tid)], this.timeoutMs);
        if (r.timedOut) throw new KnobTimeout(`taskset -p -c ${value} ${k.tid}: no answer after ${this.timeoutMs} ms`);
        if (r.failed) {
          if (threadStart(k.pid, k.tid, this.procRoot) !== k.start) throw new KnobGone(`thread ${k.tid} of pid ${k.pid} is gone`);
          throw toolWriteError(knobLabel(k), ['taskset', '-p', '-c', value, String(k.tid)], String(r.stderr), r.exitCode);
        }
        return;
      }
      case 'pages': {
        const argv = migrateArgv(k, pagesOf(k, this.procRoot), value);
        if (!argv) return;
        const r = await runCommand(argv, PAGES_TIMEOUT_MS);
        if (r.timedOut) throw new KnobTimeout(`${argv.join(' ')}: no answer after ${PAGES_TIMEOUT_MS} ms`);
        if (r.failed) {
          if (notInstalled(r.cause)) throw new Error(NO_MIGRATEPAGES);
          if (threadStart(k.pid, k.pid, this.procRoot) !== k.start) throw new KnobGone(`pid ${k.pid} is gone`);
          throw toolWriteError(knobLabel(k), argv, String(r.stderr), r.exitCode);
        }
        return;
      }
      case 'hook': {
        const argv = hookArgv(k.argv, { level: value });
        const r = await runCommand(argv, k.timeoutMs);
        if (r.timedOut) throw new KnobTimeout(`hook ${argv.join(' ')}: no answer after ${k.timeoutMs} ms`);
        if (r.failed)
          throw new Error(`hook ${argv.join(' ')} failed: ${String(r.stderr).trim().split('\n').slice(-1)[0] || `exit ${r.exitCode}`}`);
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
          throw gone(err) ? new KnobGone(`${k.path} is gone`) : fileWriteError(k.path, value, err);
        }
        return;
      case 'affinity':
        affinityOf(k, this.procRoot);
        execFileSync('taskset', ['-p', '-c', value, String(k.tid)], { timeout: this.timeoutMs, stdio: 'ignore' });
        return;
      case 'pages': {
        const argv = migrateArgv(k, pagesOf(k, this.procRoot), value);
        if (!argv) return;
        try {
          execFileSync(argv[0]!, argv.slice(1), { timeout: PAGES_TIMEOUT_MS, stdio: 'ignore' });
        } catch (err) {
          throw notInstalled(err) ? new Error(NO_MIGRATEPAGES) : err;
        }
        return;
      }
      case 'hook': {
        const argv = hookArgv(k.argv, { level: value });
        execFileSync(argv[0]!, argv.slice(1), { timeout: k.timeoutMs, stdio: 'ignore' });
        this.levels.set(k.id, value);
        return;
      }
    }
  }
}
