/**
 * Cgroups for kernel tests, all under one unique prefix (`tuner-test-<pid>-<n>`)
 * so nothing else on the host is touched. remove() moves leftover tasks to
 * the hierarchy root and removes the directories, deepest first.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

let n = 0;

export interface TestCgroup {
  path: string;
  add(pid: number): void;
  /** A child cgroup of this one. */
  child(name: string): TestCgroup;
  write(file: string, value: string): void;
  read(file: string): string;
}

export interface TestCgroupTree extends TestCgroup {
  remove(): void;
}

function wrap(dir: string): TestCgroup {
  return {
    path: dir,
    add(pid) {
      writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
    },
    child(name) {
      const d = path.join(dir, name);
      mkdirSync(d);
      return wrap(d);
    },
    write(file, value) {
      writeFileSync(path.join(dir, file), value);
    },
    read(file) {
      return readFileSync(path.join(dir, file), 'utf8').trim();
    },
  };
}

/** A fresh cgroup directly under `mount` (e.g. /sys/fs/cgroup/cpu). */
export function makeCgroup(mount: string): TestCgroupTree {
  const dir = path.join(mount, `tuner-test-${process.pid}-${n++}`);
  mkdirSync(dir);
  const cg = wrap(dir);
  return {
    ...cg,
    remove() {
      removeTree(mount, dir);
    },
  };
}

function removeTree(mount: string, dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(mount, path.join(dir, e.name));
  // Tasks still inside (a test that failed early) go back to the root.
  try {
    for (const pid of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        writeFileSync(path.join(mount, 'cgroup.procs'), pid);
      } catch {
        /* exited meanwhile */
      }
    }
  } catch {
    /* no procs file */
  }
  rmdirSync(dir);
}

/** Test cgroups this test process created and left on the host (should be none). */
export function leftoverCgroups(mounts: string[]): string[] {
  const mine = `tuner-test-${process.pid}-`;
  const out: string[] = [];
  for (const m of mounts) {
    try {
      for (const e of readdirSync(m)) if (e.startsWith(mine)) out.push(path.join(m, e));
    } catch {
      /* not mounted */
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes test cgroups left by a test run that was killed (its process is
 * gone), so one interrupted run does not fail the next. Only our own prefix,
 * only dead owners. Returns what it removed.
 */
export function removeStaleTestCgroups(mounts: string[]): string[] {
  const removed: string[] = [];
  for (const m of mounts) {
    let entries: string[];
    try {
      entries = readdirSync(m);
    } catch {
      continue;
    }
    for (const e of entries) {
      const owner = /^tuner-test-(\d+)-/.exec(e);
      if (!owner || alive(Number(owner[1]))) continue;
      removeTree(m, path.join(m, e));
      removed.push(path.join(m, e));
    }
  }
  return removed;
}
