/**
 * The only places a journal may send tuner: what its actions change. A
 * journal is input (whoever can write one, or point TUNER_JOURNAL_DIR at
 * one, would otherwise make root write any file), so `revert` checks every
 * knob against this before touching it: cgroup knob files of the controllers
 * tuner tunes, a whole disk's read_ahead_kb, and the affinity or page
 * placement of a process (whose start time must still match: a live one).
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { KnobRef } from './knob.js';
import { readMounts, type Mount } from '../procfs/mounts.js';

/** The cgroup files actions write (src/actions/*.ts). */
export const CGROUP_KNOB_FILES: ReadonlySet<string> = new Set([
  'cpu.weight',
  'cpu.shares',
  'cpu.max',
  'cpu.cfs_quota_us',
  'cpuset.cpus',
  'cpuset.mems',
  'cpuset.memory_migrate',
]);

const READ_AHEAD = /^\/sys\/block\/[^/]+\/queue\/read_ahead_kb$/;
/** Where /sys/block/DEV links to: the device's queue directory under /sys/devices. */
const READ_AHEAD_REAL = /^\/sys\/devices\/(?:[^/]+\/)+block\/[^/]+\/queue\/read_ahead_kb$/;

function cgroupMounts(): Mount[] {
  try {
    return readMounts().filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2');
  } catch {
    return [];
  }
}

/** The real path, or undefined when it does not exist (a removed cgroup: restore reports it gone). */
function real(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

/** Why tuner must not restore this file knob, or undefined when it may. */
function fileRefusal(p: string, mounts: readonly Mount[]): string | undefined {
  if (!path.isAbsolute(p) || path.posix.normalize(p) !== p || p.includes('\0')) {
    return `${JSON.stringify(p)} is not a plain absolute path`;
  }
  if (READ_AHEAD.test(p)) {
    const r = real(p);
    if (r !== undefined && !READ_AHEAD_REAL.test(r)) return `${p} leads to ${r}, not a disk's queue/read_ahead_kb`;
    return undefined;
  }
  const under = mounts.find((m) => p.startsWith(m.mountPoint + '/'));
  if (!under) return `${p} is neither in a cgroup filesystem nor a disk's /sys/block/DEV/queue/read_ahead_kb`;
  if (!CGROUP_KNOB_FILES.has(path.basename(p))) {
    return `${path.basename(p)} is not a cgroup file tuner changes (${[...CGROUP_KNOB_FILES].join(', ')})`;
  }
  const r = real(p);
  if (r !== undefined && r !== p) return `${p} leads to ${r} through a symbolic link`;
  return undefined;
}

const posInt = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) > 0;

/**
 * Why a journal's knob is outside the places tuner's actions touch, or
 * undefined when it may be restored. Hooks are checked elsewhere (against
 * the recipe that declares them).
 */
export function knobRefusal(k: KnobRef, mounts: readonly Mount[] = cgroupMounts()): string | undefined {
  switch (k.kind) {
    case 'file':
      return fileRefusal(k.path, mounts);
    case 'affinity':
      return posInt(k.pid) && posInt(k.tid) && Number.isSafeInteger(k.start)
        ? undefined
        : 'affinity knob without a valid pid, tid and start time';
    case 'pages':
      return posInt(k.pid) && Number.isSafeInteger(k.start) ? undefined : 'pages knob without a valid pid and start time';
    case 'hook':
      return undefined;
  }
}

export { cgroupMounts };
