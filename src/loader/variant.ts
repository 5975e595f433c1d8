/**
 * Which build of a CO-RE object to load: the default one, or its compat
 * variant (bpf/<name>_compat.bpf.o, the same source without what older
 * kernels lack: see bpf/include/variant.bpf.h). The kernel decides: the
 * default is loaded first, and when the kernel refuses it (an
 * ObjectLoadError: a map type, helper or instruction it lacks, or its
 * verifier), the compat variant; the choice is kept for the process. No
 * kernel version is compared. TUNER_BPF_VARIANT=default|compat forces one
 * (the benchmark measures both on one kernel this way).
 */
import { UsageError } from '../errors.js';
import { ObjectLoadError, type Instance } from './instance.js';

export type Variant = 'default' | 'compat';

/**
 * Objects with a compat variant, and what a signal gives up with it (named
 * by `tuner doctor`).
 */
export const COMPAT_LOSS: Record<string, string> = {
  sched:
    'on kernels before 5.19 (no bpf_map_lookup_percpu_elem), no per-CPU run-queue length or switches (the counts land on the CPU the reader runs on); cgroups no live process leads to are not reported; idle entries are evicted (LRU) when the maps fill, not collected every interval',
  futex:
    "a program runs at every system call (raw sys_enter/sys_exit: before 5.15 a syscall tracepoint's attachment cannot be pinned); waiters at once on a futex word may count a concurrent waiter's arrival early",
  net_sock:
    'before 6.4 (no sock_send_length/sock_recv_length tracepoints), bytes of the inet, inet6 and unix socket families only (fexit on their sendmsg/recvmsg, which needs BPF trampolines): netlink, packet and other families are not counted',
};

/** The variant chosen for each object this process loaded (or tried). */
const chosen = new Map<string, Variant>();

/** TUNER_BPF_VARIANT, checked: auto (unset), default or compat. */
export function forcedVariant(env: NodeJS.ProcessEnv = process.env): Variant | undefined {
  const v = env.TUNER_BPF_VARIANT;
  if (v === undefined || v === '' || v === 'auto') return undefined;
  if (v === 'default' || v === 'compat') return v;
  throw new UsageError(`TUNER_BPF_VARIANT: expected auto, default or compat, got "${v}"`);
}

const fileOf = (name: string, v: Variant): string => (v === 'compat' && name in COMPAT_LOSS ? `${name}_compat` : name);

/** The object file (bpf/<result>.bpf.o) to try first for `name`. */
export function firstVariant(name: string): string {
  return fileOf(name, forcedVariant() ?? chosen.get(name) ?? 'default');
}

/** The variant this process uses for `name`, once it loaded it (undefined before). */
export function variantOf(name: string): Variant | undefined {
  return chosen.get(name);
}

/** Forget the choices (tests). */
export function resetVariants(): void {
  chosen.clear();
}

/**
 * Load `name` with `load` (given the object file's name): the first variant;
 * when the kernel refuses the default and a compat variant exists (and no
 * variant is forced), the compat one. When both
 * are refused, the error gives both reasons.
 */
export async function loadVariant(name: string, load: (file: string) => Promise<Instance>): Promise<Instance> {
  const forced = forcedVariant();
  const first = firstVariant(name);
  const firstIs: Variant = first === name ? 'default' : 'compat';
  try {
    const inst = await load(first);
    chosen.set(name, firstIs);
    return inst;
  } catch (err) {
    if (!(err instanceof ObjectLoadError) || forced || firstIs === 'compat' || !(name in COMPAT_LOSS)) throw err;
    try {
      const inst = await load(`${name}_compat`);
      chosen.set(name, 'compat');
      return inst;
    } catch (err2) {
      if (!(err2 instanceof ObjectLoadError)) throw err2;
      throw new ObjectLoadError(name, `${err.reason}; its compat variant: ${err2.reason}`, err2);
    }
  }
}
