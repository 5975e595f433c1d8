/**
 * A session: the maps every object of one tuner run shares, created once and
 * pinned under PIN_ROOT/<owner>-session/, then handed to each object's load
 * (`map name X pinned P`), so the scope (a PID set, a cgroup, children
 * followed at fork) and the event channel are the same for every signal.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { KernelError } from '../errors.js';
import { onExit } from '../lifecycle/exit.js';
import { isMounted } from '../procfs/mounts.js';
import { hexWords, parseBpftoolVersion, type BpftoolVersion } from '../tools/bpftool.js';
import { parseJson } from '../tools/json.js';
import { killAndWait, runTool } from '../tools/run.js';
import type { BpftoolBatch } from '../tools/batch.js';
import type { ResolvedCgroup } from '../cgroup/resolve.js';
import { makePinDir, PIN_ROOT } from './paths.js';
import { ownerDirName, selfOwner } from './owner.js';
import { removePinRootIfEmpty, removeStalePins } from './stale.js';
import { prepareInstance, type Instance, type PreparedInstance } from './instance.js';
import { firstVariant } from './variant.js';

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
 * A session being made: its bpftool runs the scope-independent part of the
 * batch (the shared maps, a scope that observes nothing, the preloaded
 * object, attached) while the caller goes on; finish() writes the scope and
 * waits for the batch. discard() kills the bpftool and removes what it made.
 */
export interface PendingSession {
  preload: string | undefined;
  finish(scope: BpfScope): Promise<Session>;
  discard(): Promise<void>;
}

/** struct tuner_scope that matches no task: the PID set, empty (until finish() writes the real scope). */
const OBSERVE_NOTHING = Uint8Array.from([SCOPE_PIDS, 0, 0, 0, ...new Array<number>(20).fill(0)]);

/**
 * Start making a session: the shared maps, and `preload` (an object loaded
 * in the same bpftool process with those maps: one process and one round
 * trip fewer before the first record).
 */
export function startSession(opts: { preload?: string } = {}): PendingSession {
  if (!isMounted(path.dirname(PIN_ROOT))) {
    throw new KernelError(`bpffs is not mounted on ${path.dirname(PIN_ROOT)}`, {
      hint: 'mount -t bpf bpf /sys/fs/bpf (or sudo scripts/setup.sh)',
    });
  }
  removeStalePins();
  const dir = path.join(PIN_ROOT, ownerDirName(selfOwner(), `session${sessionCount++}`));
  const maps = Object.fromEntries(SHARED_MAPS.map((m) => [m, path.join(dir, m)])) as Record<SharedMap, string>;
  // Until the batch has ended, tuner may exit only once its bpftool is gone (or a pin it makes could outlive the cleanup).
  const abort = new AbortController();
  let child: number | undefined;
  let settled = false;
  const removeKill = onExit(() => {
    if (!settled && child !== undefined) killAndWait(child);
  });
  rmSync(dir, { recursive: true, force: true });
  makePinDir(dir);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    removeExit();
    rmSync(dir, { recursive: true, force: true });
    removePinRootIfEmpty();
  };
  const removeExit = onExit(close);
  let prepared: PreparedInstance | undefined;
  try {
    if (opts.preload) prepared = prepareInstance(firstVariant(opts.preload), { reuse: maps });
  } catch (err) {
    removeKill();
    close();
    throw err;
  }
  const create = (p: string, type: string, key: number, value: number, entries: number, name: string): string[] => [
    'map',
    'create',
    p,
    'type',
    type,
    'key',
    String(key),
    'value',
    String(value),
    'entries',
    String(entries),
    'name',
    name,
  ];
  const first = [
    ['version'],
    create(maps.tuner_scope, 'array', 4, 24, 1, 'tuner_scope'),
    create(maps.tuner_pids, 'hash', 4, 1, SCOPE_MAX_PIDS, 'tuner_pids'),
    create(maps.tuner_events, 'perf_event_array', 4, 4, possibleCpus(), 'tuner_events'),
    create(maps.tuner_ev_drops, 'percpu_array', 4, 8, 1, 'tuner_ev_drops'),
    scopeUpdate(maps, OBSERVE_NOTHING),
    ...(prepared ? [prepared.args] : []),
  ];
  let rest!: (text: string) => void;
  // One bpftool process for every map and update (a PID set may be long): a process each cost 55 ms of
  // start-up. It also reports its version, so choosing the backend needs no process of its own.
  const out = runTool('bpftool', ['-j', 'batch', 'file', '-'], {
    input: { first: lines(first), rest: new Promise<string>((r) => (rest = r)) },
    signal: abort.signal,
    onSpawn: (pid) => (child = pid),
  });
  const ended = out
    .then(
      () => undefined,
      () => undefined,
    )
    .finally(() => {
      settled = true;
      removeKill();
    });
  const cleanup = (): void => {
    prepared?.instance.unload();
    close();
  };
  const discard = async (): Promise<void> => {
    abort.abort();
    rest('');
    await ended;
    cleanup();
  };
  return {
    preload: opts.preload,
    discard,
    async finish(scope) {
      if ((scope.pids?.length ?? 0) > SCOPE_MAX_PIDS) {
        await discard();
        throw new KernelError(`at most ${SCOPE_MAX_PIDS} PIDs can be observed at once`);
      }
      const commands = [
        ...(scope.pids ?? []).map((pid) => [
          'map',
          'update',
          'pinned',
          maps.tuner_pids,
          'key',
          'hex',
          ...hexWords(u32le(pid)),
          'value',
          'hex',
          '01',
        ]),
        scopeUpdate(maps, encodeScope(scope)),
      ];
      // bpftool 7.5's batch checks errno after its last line, and `prog loadall` leaves EEXIST there
      // ("reading batch file failed: File exists"): a last command that ends on ENOENT clears it.
      if (prepared) commands.push(['btf', 'show', 'id', '1']);
      rest(lines(commands));
      let bpftool: BpftoolVersion;
      try {
        const results = parseJson(await out) as Array<{ command?: string[]; output?: unknown }>;
        bpftool = parseBpftoolVersion(results.find((r) => r.command?.[0] === 'version')?.output);
      } catch (err) {
        cleanup();
        // The object's own load, alone, reports its error as usual.
        if (prepared) return startSession().finish(scope);
        throw err;
      }
      let preloaded = prepared?.instance;
      const takePreloaded = (name: string): Instance | undefined => {
        // By the object's name: the instance may be its compat variant (loader/variant.ts).
        if (!preloaded || opts.preload !== name) return undefined;
        const inst = preloaded;
        preloaded = undefined;
        return inst;
      };
      return { dir, maps, scope, bpftool, takePreloaded, close: () => (preloaded?.unload(), close()) };
    },
  };
}

const lines = (commands: string[][]): string => commands.map((u) => u.join(' ')).join('\n') + '\n';

const scopeUpdate = (maps: Record<SharedMap, string>, value: Uint8Array): string[] => [
  'map',
  'update',
  'pinned',
  maps.tuner_scope,
  'key',
  'hex',
  '00',
  '00',
  '00',
  '00',
  'value',
  'hex',
  ...hexWords(value),
];

/** A session started ahead of its command (prestartSession), until openSession takes it. */
let prestarted: PendingSession | undefined;

/** Start the session of a command that is still loading; openSession with the same `preload` takes it over. */
export function prestartSession(preload: string): void {
  prestarted ??= startSession({ preload });
}

/** The prestarted session, if no command took it: kill its bpftool and remove what it made. */
export async function discardPrestarted(): Promise<void> {
  const p = prestarted;
  prestarted = undefined;
  await p?.discard();
}

/**
 * Create the shared maps and write the scope into them (see startSession).
 * If the batch fails, the session is made again without the preloaded
 * object, whose own load then reports the error as usual.
 */
export async function openSession(scope: BpfScope, opts: { preload?: string } = {}): Promise<Session> {
  let pending = prestarted;
  prestarted = undefined;
  if (pending && pending.preload !== opts.preload) {
    await pending.discard();
    pending = undefined;
  }
  return (pending ?? startSession(opts)).finish(scope);
}

let sessionCount = 0;

/** Write a per-object config value (an array map of one entry) through a batch. */
export async function writeConfig(batch: BpftoolBatch, pinned: string, value: Uint8Array): Promise<void> {
  await batch.request(['map', 'update', 'pinned', pinned, 'key', 'hex', '00', '00', '00', '00', 'value', 'hex', ...hexWords(value)]);
}
