/**
 * A session: the maps every object of one tuner run shares, created once and
 * pinned under PIN_ROOT/<owner>-session/, then handed to each object's load
 * (`map name X pinned P`), so the scope (a PID set, a cgroup, children
 * followed at fork) and the event channel are the same for every signal.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { KernelError } from '../errors.js';
import { onExit } from '../lifecycle/exit.js';
import { isMounted } from '../procfs/mounts.js';
import { hexWords, parseBpftoolVersion, type BpftoolVersion } from '../tools/bpftool.js';
import { parseJson } from '../tools/json.js';
import { runTool } from '../tools/run.js';
import type { BpftoolBatch } from '../tools/batch.js';
import type { ResolvedCgroup } from '../cgroup/resolve.js';
import { PIN_ROOT } from './paths.js';
import { ownerDirName, selfOwner } from './owner.js';
import { removePinRootIfEmpty, removeStalePins } from './stale.js';
import { prepareInstance, type Instance, type PreparedInstance } from './instance.js';

/** Values of bpf/scope.h. */
const SCOPE_ALL = 0;
const SCOPE_PIDS = 1;
const SCOPE_CGROUP = 2;
const CG_HIER_CPU = 0;
const CG_HIER_DFL = 1;
const SCOPE_MAX_PIDS = 8192;

export interface BpfScope {
  pids?: number[];
  cgroup?: ResolvedCgroup;
  /** With pids: processes they fork join the set. */
  followChildren?: boolean;
}

/** struct tuner_scope, little-endian. */
export function encodeScope(scope: BpfScope): Uint8Array {
  const buf = Buffer.alloc(24);
  let kind = SCOPE_ALL;
  if (scope.pids && scope.pids.length > 0) kind = SCOPE_PIDS;
  else if (scope.cgroup) kind = SCOPE_CGROUP;
  buf.writeUInt32LE(kind, 0);
  buf.writeUInt32LE(scope.followChildren ? 1 : 0, 4);
  if (kind === SCOPE_CGROUP && scope.cgroup) {
    buf.writeUInt32LE(scope.cgroup.hierarchy.version === 2 ? CG_HIER_DFL : CG_HIER_CPU, 8);
    buf.writeUInt32LE(scope.cgroup.level, 12);
    buf.writeBigUInt64LE(scope.cgroup.id, 16);
  }
  return buf;
}

export function u32le(n: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

export function u64le(n: bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}

/** Number of CPUs in a list such as /sys/devices/system/cpu/online ("0-3,8"). */
export function countCpus(text: string): number {
  let n = 0;
  for (const part of text.trim().split(',')) {
    const [a, b] = part.split('-').map(Number);
    n += b === undefined ? 1 : b - a! + 1;
  }
  return n;
}

/** Number of possible CPUs (the size of a perf event array). */
export const possibleCpus = (): number => countCpus(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));

/** Number of online CPUs (those that run tasks). */
export const onlineCpus = (): number => countCpus(readFileSync('/sys/devices/system/cpu/online', 'utf8'));

export const SHARED_MAPS = ['tuner_scope', 'tuner_pids', 'tuner_events', 'tuner_ev_drops'] as const;
export type SharedMap = (typeof SHARED_MAPS)[number];

export interface Session {
  dir: string;
  /** Pinned path of each shared map. */
  maps: Record<SharedMap, string>;
  scope: BpfScope;
  /** The bpftool that created the maps (asked in the same batch). */
  bpftool: BpftoolVersion;
  /** The object loaded in the same batch (openSession's `preload`), once: the first caller that asks for it gets it. */
  takePreloaded(name: string): Instance | undefined;
  /** Remove the session's pins (objects loaded in it keep the maps alive until they are unloaded). */
  close(): void;
}

/**
 * Create the shared maps and write the scope into them. `preload`: an object
 * to load in the same bpftool process, with the shared maps (start-up: one
 * process and one round trip fewer before the first record). If that batch
 * fails, the session is made again without it, so the object's own load
 * reports the error as usual.
 */
export async function openSession(scope: BpfScope, opts: { preload?: string } = {}): Promise<Session> {
  if (!isMounted(path.dirname(PIN_ROOT))) {
    throw new KernelError(`bpffs is not mounted on ${path.dirname(PIN_ROOT)}`, { hint: 'mount -t bpf bpf /sys/fs/bpf (or sudo scripts/setup.sh)' });
  }
  if ((scope.pids?.length ?? 0) > SCOPE_MAX_PIDS) throw new KernelError(`at most ${SCOPE_MAX_PIDS} PIDs can be observed at once`);
  removeStalePins();
  const dir = path.join(PIN_ROOT, ownerDirName(selfOwner(), `session${sessionCount++}`));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const maps = Object.fromEntries(SHARED_MAPS.map((m) => [m, path.join(dir, m)])) as Record<SharedMap, string>;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    removeExit();
    rmSync(dir, { recursive: true, force: true });
    removePinRootIfEmpty();
  };
  const removeExit = onExit(close);
  let bpftool: BpftoolVersion;
  let prepared: PreparedInstance | undefined;
  try {
    const create = (p: string, type: string, key: number, value: number, entries: number, name: string): string[] =>
      ['map', 'create', p, 'type', type, 'key', String(key), 'value', String(value), 'entries', String(entries), 'name', name];
    const commands = [
      ['version'],
      create(maps.tuner_scope, 'array', 4, 24, 1, 'tuner_scope'),
      create(maps.tuner_pids, 'hash', 4, 1, SCOPE_MAX_PIDS, 'tuner_pids'),
      create(maps.tuner_events, 'perf_event_array', 4, 4, possibleCpus(), 'tuner_events'),
      create(maps.tuner_ev_drops, 'percpu_array', 4, 8, 1, 'tuner_ev_drops'),
      ...(scope.pids ?? []).map((pid) => ['map', 'update', 'pinned', maps.tuner_pids, 'key', 'hex', ...hexWords(u32le(pid)), 'value', 'hex', '01']),
      ['map', 'update', 'pinned', maps.tuner_scope, 'key', 'hex', '00', '00', '00', '00', 'value', 'hex', ...hexWords(encodeScope(scope))],
    ];
    if (opts.preload) {
      prepared = prepareInstance(opts.preload, { reuse: maps });
      // bpftool 7.5's batch checks errno after its last line, and `prog loadall` leaves EEXIST there
      // ("reading batch file failed: File exists"): a last command that ends on ENOENT clears it.
      commands.push(prepared.args, ['btf', 'show', 'id', '1']);
    }
    // One bpftool process for every map and update (a PID set may be long): a process each cost 55 ms of
    // start-up. It also reports its version, so choosing the backend needs no process of its own.
    const out = await runTool('bpftool', ['-j', 'batch', 'file', '-'], { input: commands.map((u) => u.join(' ')).join('\n') + '\n' });
    const results = parseJson(out) as Array<{ command?: string[]; output?: unknown }>;
    bpftool = parseBpftoolVersion(results.find((r) => r.command?.[0] === 'version')?.output);
  } catch (err) {
    prepared?.instance.unload();
    close();
    if (prepared) return openSession(scope);
    throw err;
  }
  let preloaded = prepared?.instance;
  const takePreloaded = (name: string): Instance | undefined => {
    if (preloaded?.name !== name) return undefined;
    const inst = preloaded;
    preloaded = undefined;
    return inst;
  };
  return { dir, maps, scope, bpftool, takePreloaded, close: () => (preloaded?.unload(), close()) };
}

let sessionCount = 0;

/** Write a per-object config value (an array map of one entry) through a batch. */
export async function writeConfig(batch: BpftoolBatch, pinned: string, value: Uint8Array): Promise<void> {
  await batch.request(['map', 'update', 'pinned', pinned, 'key', 'hex', '00', '00', '00', '00', 'value', 'hex', ...hexWords(value)]);
}
