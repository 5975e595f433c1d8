/**
 * Load a CO-RE object with bpftool and pin it under PIN_ROOT/<owner>-<name>/:
 * program links in the directory (autoattach), maps in maps/. Removing the
 * directory detaches everything: a pinned link is the only reference that
 * keeps a program attached once bpftool has exited.
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { KernelError, ToolError } from '../errors.js';
import { libbpfReason } from './libbpf-reason.js';

/** The kernel refused a CO-RE object (libbpf's reason in `reason`): what `--backend auto` falls back on. */
export class ObjectLoadError extends KernelError {
  constructor(
    readonly object: string,
    readonly reason: string,
    cause: unknown,
  ) {
    super(`could not load ${object}.bpf.o: ${reason}`, { cause, hint: 'tuner doctor' });
  }
}
import { loadAllArgs } from '../tools/bpftool.js';
import { runTool } from '../tools/run.js';
import { onExit } from '../lifecycle/exit.js';
import { makePinDir, objectPath, PIN_ROOT } from './paths.js';
import { ownerDirName, selfOwner } from './owner.js';
import { removePinRootIfEmpty, removeStalePins } from './stale.js';
import { isMounted } from '../procfs/mounts.js';

export interface Instance {
  name: string;
  dir: string;
  mapDir: string;
  /** Pinned path of map <name>_<suffix> (bpftool pins maps by their name). */
  map(name: string): string;
  /** Pinned path of the link of program <prog>. */
  link(prog: string): string;
  /** Detach and unpin; idempotent. */
  unload(): void;
}

const BPFFS = path.dirname(PIN_ROOT);

/** How many instances of each object this process has loaded (for unique pin directories). */
const loadedTags = new Map<string, number>();

/** An instance whose pin directory exists and whose load command is known, not yet run. */
export interface PreparedInstance {
  instance: Instance;
  /** The bpftool arguments that load it (run them alone, or as a line of a batch). */
  args: string[];
  /** Turn a failure of those arguments into the error tuner reports (and remove the pins). */
  failed(err: unknown): never;
}

/**
 * Prepare bpf/<name>.bpf.o for loading by this process: its pin directory,
 * its bpftool command, its removal on unload() or process exit. `reuse`
 * maps map names of the object to pinned maps it should use instead of
 * creating its own (the session's shared maps).
 */
export function prepareInstance(name: string, opts: { tag?: string; reuse?: Record<string, string> } = {}): PreparedInstance {
  // Two instances of one object in one process (diagnose loads sched twice) must not share a directory.
  const base = opts.tag ?? name;
  const n = loadedTags.get(base) ?? 0;
  loadedTags.set(base, n + 1);
  const tag = n === 0 ? base : `${base}-${n}`; // bpffs refuses names with a dot
  if (!isMounted(BPFFS)) {
    throw new KernelError(`bpffs is not mounted on ${BPFFS}`, { hint: `mount -t bpf bpf ${BPFFS} (or run sudo scripts/setup.sh)` });
  }
  const obj = objectPath(name);
  if (!existsSync(obj)) {
    throw new KernelError(`the BPF object ${obj} is missing`, { hint: 'npm run build:bpf' });
  }
  removeStalePins();
  const dir = path.join(PIN_ROOT, ownerDirName(selfOwner(), tag));
  const mapDir = path.join(dir, 'maps');
  rmSync(dir, { recursive: true, force: true });
  makePinDir(mapDir);

  let unloaded = false;
  const unload = (): void => {
    if (unloaded) return;
    unloaded = true;
    removeExit();
    rmSync(dir, { recursive: true, force: true });
    removePinRootIfEmpty();
  };
  const removeExit = onExit(unload);
  const instance: Instance = {
    name,
    dir,
    mapDir,
    map: (m) => path.join(mapDir, m),
    link: (p) => path.join(dir, p),
    unload,
  };
  return {
    instance,
    args: loadAllArgs(obj, dir, mapDir, opts.reuse),
    failed(err) {
      unload();
      if (err instanceof ToolError) {
        const named = libbpfReason(err.stderr);
        const reason = named ? `libbpf: ${named}` : err.stderr.split('\n').filter(Boolean).slice(-2).join(' / ') || err.message;
        throw new ObjectLoadError(name, reason, err);
      }
      throw err;
    },
  };
}

/** Load bpf/<name>.bpf.o for this process (see prepareInstance). */
export async function loadInstance(name: string, opts: { tag?: string; reuse?: Record<string, string> } = {}): Promise<Instance> {
  const prepared = prepareInstance(name, opts);
  try {
    await runTool('bpftool', prepared.args, { timeoutMs: 60_000 });
  } catch (err) {
    prepared.failed(err);
  }
  return prepared.instance;
}
