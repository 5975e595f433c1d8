/**
 * Which backend reads a signal: the CO-RE objects loaded with bpftool
 * (needs autoattach, bpftool 7.2+), or bpftrace scripts. `auto` prefers
 * CO-RE and falls back to bpftrace when bpftool cannot attach.
 */
import { KernelError } from '../errors.js';
import { ObjectLoadError } from '../loader/instance.js';
import { bpftoolVersion, type BpftoolVersion } from '../tools/bpftool.js';
import { runTool, SETUP_HINT } from '../tools/run.js';

export type Backend = 'bpf' | 'bpftrace';
export type BackendChoice = Backend | 'auto';

/** The values of --backend. */
export const BACKENDS = ['auto', 'bpf', 'bpftrace'] as const;

let bpftoolProbe: Promise<{ autoattach: boolean; bpftoolVersion?: string }> | undefined;
let bpftraceProbe: Promise<boolean> | undefined;

function probeBpftool(): Promise<{ autoattach: boolean; bpftoolVersion?: string }> {
  bpftoolProbe ??= bpftoolVersion().then(
    (v) => ({ autoattach: v.autoattach, bpftoolVersion: v.version }),
    () => ({ autoattach: false }),
  );
  return bpftoolProbe;
}

/** A version already read (by the session's bpftool batch) answers the probe without another process. */
export function primeBpftoolProbe(v: BpftoolVersion): void {
  bpftoolProbe ??= Promise.resolve({ autoattach: v.autoattach, bpftoolVersion: v.version });
}

/**
 * bpftrace is asked only when it may be used: starting it costs 100 ms and
 * 60 MB (measured by `npm run bench`), which `watch sched` would otherwise
 * pay at every start for a backend it does not pick.
 */
function probeBpftrace(): Promise<boolean> {
  bpftraceProbe ??= runTool('bpftrace', ['--version'], { timeoutMs: 10_000 }).then(
    () => true,
    () => false,
  );
  return bpftraceProbe;
}

/** A known answer for the bpftrace probe (tests; a caller that already ran bpftrace). */
export function primeBpftraceProbe(installed: boolean): void {
  bpftraceProbe ??= Promise.resolve(installed);
}

async function probeTools(requested: BackendChoice): Promise<{ autoattach: boolean; bpftrace: boolean; bpftoolVersion?: string }> {
  const bt = requested === 'bpftrace' ? { autoattach: false } : await probeBpftool();
  const bpftrace = requested === 'bpf' || (requested === 'auto' && bt.autoattach) ? false : await probeBpftrace();
  return { ...bt, bpftrace };
}

export async function chooseBackend(requested: BackendChoice): Promise<Backend> {
  const tools = await probeTools(requested);
  if (requested === 'bpf' || (requested === 'auto' && tools.autoattach)) {
    if (!tools.autoattach) {
      throw new KernelError(
        tools.bpftoolVersion
          ? `--backend bpf needs bpftool 7.2 or newer (autoattach); this is bpftool ${tools.bpftoolVersion}`
          : '--backend bpf needs bpftool, which is not installed',
        { hint: SETUP_HINT },
      );
    }
    return 'bpf';
  }
  if (!tools.bpftrace) {
    throw new KernelError(
      requested === 'bpftrace'
        ? '--backend bpftrace: bpftrace is not installed'
        : 'neither bpftool with autoattach nor bpftrace is available',
      { hint: SETUP_HINT },
    );
  }
  return 'bpftrace';
}

/**
 * When bpftrace failed because it could not resolve a kernel struct from the
 * kernel's BTF (bpftrace 0.17 on Debian 11's 5.10 kernel: "Unknown
 * struct/union: 'struct task_struct'"), what to say instead of its compile
 * error: tuner's bpftrace scripts all read struct task_struct, so that
 * backend cannot run on this kernel. Undefined for any other failure.
 */
export function bpftraceStructFailure(stderr: string): string | undefined {
  const m = /Unknown struct\/union: '([^']+)'|Cannot resolve unknown type "([^"]+)"/.exec(stderr);
  if (!m) return undefined;
  return `bpftrace cannot resolve ${m[1] ?? m[2]} from this kernel's BTF, which every bpftrace script of tuner reads: the bpftrace backend is unavailable on this kernel`;
}

/** What fixes a bpftraceStructFailure. */
export const BPFTRACE_STRUCT_FIX = 'use the CO-RE backend (bpftool 7.2 or newer), or a newer bpftrace';

/** Where a fallback warning goes when the caller gave no `warn`. */
export const stderrWarn = (m: string): void => void process.stderr.write(`tuner: warning: ${m}\n`);

/**
 * Whether a signal whose CO-RE open failed with `err` falls back to
 * bpftrace, and the warning and reason to give: only under --backend auto,
 * only when the kernel refused the object (an ObjectLoadError: verifier, a
 * map type or hook it lacks), only for a signal with a bpftrace script, and
 * only when bpftrace is installed. `tuner doctor` loads the same object and
 * states the same verdict.
 */
export async function coreFallback(
  requested: BackendChoice,
  signal: string,
  failedBackend: string,
  hasBpftrace: boolean,
  err: unknown,
): Promise<{ warning: string; reason: string } | undefined> {
  if (requested !== 'auto' || failedBackend !== 'bpf' || !hasBpftrace || !(err instanceof ObjectLoadError)) return undefined;
  if (!(await probeBpftrace())) return undefined;
  const why = `the kernel refused ${err.object}.bpf.o (${err.reason})`;
  return { warning: `${signal}: ${why}; using the bpftrace backend`, reason: `auto: ${why}; bpftrace can` };
}
