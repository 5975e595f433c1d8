/**
 * A knob is one thing tuner can change and must be able to put back: a
 * sysfs/cgroup file, the CPU affinity of one thread, the NUMA nodes that hold
 * a process's pages, or the level of a cooperative service's hook. Knobs are
 * plain data (they go into the journal); KnobIo reads and writes them.
 */

export type KnobRef =
  | { kind: 'file'; path: string }
  /** A thread's allowed CPUs; `start` (its start time) tells a reused TID from the thread we changed. */
  | { kind: 'affinity'; pid: number; tid: number; start: number }
  /**
   * The NUMA nodes holding a process's resident pages, as a node list ("0",
   * "0-1"; a node with under 5% of them does not count). Writing a list moves
   * the pages on nodes outside it onto it (migratepages(8)); numa_rebalance
   * changes it only from one node to another, so restoring the original
   * puts the pages back on their node.
   */
  | { kind: 'pages'; pid: number; start: number }
  /** A hook command run without a shell; "{level}" in its arguments becomes the level written. */
  | { kind: 'hook'; id: string; argv: string[]; timeoutMs: number };

export function knobId(k: KnobRef): string {
  switch (k.kind) {
    case 'file':
      return `file:${k.path}`;
    case 'affinity':
      return `affinity:${k.pid}/${k.tid}@${k.start}`;
    case 'pages':
      return `pages:${k.pid}@${k.start}`;
    case 'hook':
      return `hook:${k.id}`;
  }
}

/** What a person reads in a log line. */
export function knobLabel(k: KnobRef): string {
  switch (k.kind) {
    case 'file':
      return k.path;
    case 'affinity':
      return k.pid === k.tid ? `affinity of pid ${k.pid}` : `affinity of thread ${k.tid} (pid ${k.pid})`;
    case 'pages':
      return `NUMA nodes of the pages of pid ${k.pid}`;
    case 'hook':
      return `hook ${k.argv[0]} level`;
  }
}

/** The object behind a knob is gone (cgroup removed, thread exited): nothing to restore. */
export class KnobGone extends Error {}

/** A write did not finish in time; its outcome is unknown. */
export class KnobTimeout extends Error {}

export interface KnobIo {
  /** The current value, normalized (trimmed, canonical CPU lists). */
  read(k: KnobRef): Promise<string>;
  /** Write with a timeout (KnobTimeout); KnobGone when the object vanished. */
  write(k: KnobRef, value: string): Promise<void>;
  /** Synchronous forms, for the exit path (no timeouts possible there). */
  readSync(k: KnobRef): string;
  writeSync(k: KnobRef, value: string): void;
}

/** Substitute {level} (and any given placeholders) in a hook's arguments. */
export function hookArgv(argv: readonly string[], vars: Record<string, string>): string[] {
  return argv.map((a) => a.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m));
}
