/**
 * `tuner doctor`: can tuner run here, and if not, what fixes it. Every check
 * says pass, warn or fail and, unless it passes, the command that fixes it.
 * `ok` is true only when `watch sched` can run, which the last check proves
 * by loading and unloading the real sched object.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { bpftoolVersion, type BpftoolVersion } from '../tools/bpftool.js';
import { runTool } from '../tools/run.js';
import { detectLayout, type CgroupLayout } from '../cgroup/layout.js';
import { isMounted } from '../procfs/mounts.js';
import { readKernelConfig } from '../procfs/kconfig.js';
import { loadInstance } from '../loader/instance.js';
import { COMPAT_LOSS, loadVariant } from '../loader/variant.js';
import { COVERED_BY, DUMP_LOSS, OBJECT_LOSS, SCHED_FALLBACK, type OptionalObject } from '../signals/degradations.js';
import { messageOf, ToolError } from '../errors.js';
import { BPFTRACE_STRUCT_FIX, bpftraceStructFailure } from '../signals/backend.js';
import { CAP_SYS_ADMIN, canLoadBpf, effectiveCaps, hasCap } from '../procfs/caps.js';
import { line, type CommandSpec } from './spec.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface Check {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  /** The backend `watch --backend auto` would pick, if any. */
  backend: 'bpf' | 'bpftrace' | null;
  checks: Check[];
}

export interface DoctorOptions {
  /** Skip the load test (it needs root and takes ~100 ms). */
  noLoad?: boolean;
}

/** What the checks read of the host: the real one, or a fake in tests. */
export interface DoctorHost {
  exists(path: string): boolean;
  readable(path: string): boolean;
  mounted(path: string, fstype: string): boolean;
  caps(): bigint;
  uid(): number | undefined;
  bpftool(): Promise<BpftoolVersion>;
  /** bpftrace --version. */
  bpftrace(): Promise<string>;
  /** Run a bpftrace one-liner that reads a kernel struct (as probes/sched.bt does); rejects with bpftrace's error. */
  bpftraceStructs(): Promise<void>;
  layout(): CgroupLayout;
  kconfig(name: string): string | undefined;
  /** Load, attach and unload the scheduler object; the object file that loaded (sched or sched_compat). */
  loadSched(): Promise<string | void>;
  /** Load, attach and unload another CO-RE object (bpf/<name>.bpf.o, or its compat variant): the file that loaded. */
  loadObject(name: string): Promise<string | void>;
}

export const REAL_HOST: DoctorHost = {
  exists: existsSync,
  readable(path) {
    try {
      accessSync(path, constants.R_OK);
      readFileSync(path, 'utf8');
      return true;
    } catch {
      return false;
    }
  },
  mounted: isMounted,
  caps: () => effectiveCaps(),
  uid: () => process.getuid?.(),
  bpftool: bpftoolVersion,
  bpftrace: () => runTool('bpftrace', ['--version'], { timeoutMs: 10_000 }),
  async bpftraceStructs() {
    await runTool('bpftrace', ['-e', 'BEGIN { printf("%d\\n", curtask->pid); exit(); }'], { timeoutMs: 30_000 });
  },
  layout: detectLayout,
  kconfig: (() => {
    let config: ReturnType<typeof readKernelConfig> | null = null;
    return (name: string) => (config ??= readKernelConfig())?.get(name);
  })(),
  async loadSched() {
    const inst = await loadVariant('sched', (file) => loadInstance(file, { tag: 'doctor' }));
    inst.unload();
    return inst.name;
  },
  async loadObject(name) {
    const inst = await loadVariant(name, (file) => loadInstance(file, { tag: 'doctor' }));
    inst.unload();
    return inst.name;
  },
};

/** One check's outcome: passed or not, what was found, and (when not) the fix, if not the check's own. */
interface Outcome {
  ok: boolean;
  detail: string;
  fix?: string;
}

interface CheckDef {
  id: string;
  title: string;
  /** The status when the check does not pass. */
  otherwise: 'warn' | 'fail';
  fix?: string;
  /** Whether to run it, given which checks before it passed (default: always). */
  when?: (passed: (id: string) => boolean, opts: DoctorOptions) => boolean;
  run(host: DoctorHost, run: DoctorRun): Outcome | Promise<Outcome>;
}

/** What one doctor run learnt so far: the object file each load check loaded (e.g. futex -> futex_compat). */
interface DoctorRun {
  loaded: Map<string, string>;
}

/** The checks, in the order they run and are shown. */
export const CHECKS: readonly CheckDef[] = [
  { id: 'kernel', title: 'kernel', otherwise: 'fail', run: () => ({ ok: true, detail: `${os.release()} (${os.arch()})` }) },
  {
    id: 'privileges',
    title: 'privileges',
    otherwise: 'fail',
    fix: 'run as root: sudo npx tuner ...',
    run(h) {
      const caps = h.caps();
      return canLoadBpf(caps)
        ? { ok: true, detail: `uid ${h.uid()}, ${hasCap(caps, CAP_SYS_ADMIN) ? 'CAP_SYS_ADMIN' : 'CAP_BPF + CAP_PERFMON'}` }
        : { ok: false, detail: `uid ${h.uid()} lacks CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN)` };
    },
  },
  {
    id: 'btf',
    title: 'kernel BTF',
    otherwise: 'fail',
    fix: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y',
    run: (h) =>
      h.exists('/sys/kernel/btf/vmlinux')
        ? { ok: true, detail: '/sys/kernel/btf/vmlinux' }
        : { ok: false, detail: 'no /sys/kernel/btf/vmlinux: CO-RE objects cannot relocate' },
  },
  {
    id: 'bpffs',
    title: 'bpffs',
    otherwise: 'fail',
    fix: 'mount -t bpf bpf /sys/fs/bpf',
    run: (h) =>
      h.mounted('/sys/fs/bpf', 'bpf')
        ? { ok: true, detail: 'mounted on /sys/fs/bpf' }
        : { ok: false, detail: 'not mounted on /sys/fs/bpf' },
  },
  {
    id: 'tracefs',
    title: 'tracefs',
    otherwise: 'warn',
    fix: 'mount -t tracefs tracefs /sys/kernel/tracing',
    run: (h) =>
      h.mounted('/sys/kernel/tracing', 'tracefs') || h.mounted('/sys/kernel/debug/tracing', 'tracefs')
        ? { ok: true, detail: 'mounted' }
        : { ok: false, detail: 'not mounted: bpftrace probes and classic tracepoints need it' },
  },
  {
    id: 'bpftool',
    title: 'bpftool',
    otherwise: 'fail',
    fix: 'sudo scripts/setup.sh (installs bpftool from bookworm-backports on Debian 12)',
    async run(h) {
      try {
        const v = await h.bpftool();
        return v.autoattach
          ? { ok: true, detail: `${v.version}, with autoattach` }
          : { ok: false, detail: `${v.version}: no autoattach (needs 7.2 or newer)` };
      } catch (err) {
        return { ok: false, detail: `not usable: ${messageOf(err).split('\n')[0]}`, fix: 'sudo scripts/setup.sh' };
      }
    },
  },
  {
    id: 'bpftrace',
    title: 'bpftrace',
    otherwise: 'warn',
    fix: 'apt-get install bpftrace',
    async run(h) {
      let version: string;
      try {
        version = (await h.bpftrace()).trim();
      } catch {
        return { ok: false, detail: 'not installed: the bpftrace backend and flexible probes are unavailable' };
      }
      // Its clang compiles the kernel types a script reads against <linux/types.h>: without it, no script of tuner's runs.
      if (h.uid() === 0) {
        try {
          await h.bpftraceStructs();
        } catch (err) {
          const structs = bpftraceStructFailure(err instanceof ToolError ? err.stderr : messageOf(err));
          if (structs) return { ok: false, detail: `${version}: ${structs}`, fix: BPFTRACE_STRUCT_FIX };
          const why = /fatal error: [^\n]*/.exec(messageOf(err))?.[0] ?? messageOf(err).split('\n')[0];
          return {
            ok: false,
            detail: `${version} cannot compile a script that reads kernel structs (${why}): the bpftrace backend is unavailable`,
            fix: 'apt-get install linux-libc-dev (the kernel headers bpftrace compiles against)',
          };
        }
      }
      return { ok: true, detail: version };
    },
  },
  {
    id: 'cgroups',
    title: 'cgroup layout',
    otherwise: 'warn',
    fix: 'mount the cpu controller (cgroup v2: mount -t cgroup2 none /sys/fs/cgroup)',
    run(h) {
      const layout = h.layout();
      const where = Object.entries(layout.byController)
        .filter(([c]) => ['cpu', 'cpuset', 'memory', 'io', 'blkio'].includes(c))
        .map(([c, x]) => `${c}: v${x.version} ${x.mountPoint}`)
        .join(', ');
      return {
        ok: layout.cpu !== undefined,
        detail: `${layout.mode}${where ? `; ${where}` : ''}${layout.unified ? `; unified at ${layout.unified.mountPoint}` : ''}`,
      };
    },
  },
  {
    id: 'psi',
    title: 'PSI',
    otherwise: 'warn',
    fix: 'boot with psi=1 (CONFIG_PSI=y)',
    run: (h) =>
      h.readable('/proc/pressure/cpu')
        ? { ok: true, detail: '/proc/pressure/{cpu,memory,io}' }
        : { ok: false, detail: 'no /proc/pressure: pressure signals and pressure_backoff are unavailable' },
  },
  {
    id: 'sched_info',
    title: 'SCHED_INFO',
    otherwise: 'fail',
    fix: 'use a kernel with CONFIG_SCHED_INFO=y (selected by CONFIG_SCHEDSTATS or CONFIG_TASK_DELAY_ACCT)',
    run: (h) =>
      h.exists('/proc/self/schedstat')
        ? { ok: true, detail: 'per-task run-queue accounting (/proc/PID/schedstat)' }
        : { ok: false, detail: 'no per-task run-queue accounting' },
  },
  {
    id: 'kprobes',
    title: 'kprobes',
    otherwise: 'warn',
    fix: 'none needed; a kernel with CONFIG_KPROBES=y enables the optional hooks',
    run: (h) =>
      h.kconfig('CONFIG_KPROBES') === 'y' || h.exists('/sys/kernel/tracing/kprobe_events')
        ? { ok: true, detail: 'available' }
        : { ok: false, detail: 'not configured: tuner uses tracepoints only, kprobe-based extras are off' },
  },
  {
    id: 'load',
    title: 'load sched.bpf.o',
    otherwise: 'fail',
    fix: `with bpftrace installed, --backend auto uses it: ${SCHED_FALLBACK}; report libbpf's reason with \`tuner doctor --json\``,
    when: (passed, opts) => canUseBpf(passed) && !opts.noLoad,
    async run(h, r) {
      try {
        const file = (await h.loadSched()) || 'sched';
        r.loaded.set('sched', file);
        return { ok: true, detail: loadedDetail('sched', file) };
      } catch (err) {
        return { ok: false, detail: messageOf(err).split('\n').slice(0, 3).join(' / ') };
      }
    },
  },
  // The other CO-RE objects: one the kernel refuses is a named loss, not a failure.
  ...Object.entries(OBJECT_LOSS).map(([name, loss]): CheckDef => ({
    id: `load:${name}`,
    title: `load ${name}.bpf.o`,
    otherwise: 'warn',
    when: (passed, opts) => canUseBpf(passed) && !opts.noLoad,
    async run(h, r) {
      // What the readers do: an object a compat variant covers is not loaded beside it.
      const cover = COVERED_BY[name as OptionalObject];
      if (cover && r.loaded.get(cover.object) === cover.variant) return { ok: true, detail: `not needed: ${cover.how}` };
      try {
        const file = (await h.loadObject(name)) || name;
        r.loaded.set(name, file);
        return { ok: true, detail: loadedDetail(name, file) };
      } catch (err) {
        return { ok: false, detail: `${loss}: ${messageOf(err).split('\n')[0]}`, fix: 'none: the other signals keep working' };
      }
    },
  })),
  // The iterators that read those objects' maps: one the kernel refuses leaves its maps to bpftool JSON.
  ...Object.entries(DUMP_LOSS).map(([name, { reads, loss }]): CheckDef => ({
    id: `load:${name}`,
    title: `load ${name}.bpf.o`,
    otherwise: 'warn',
    when: (passed, opts) => canUseBpf(passed) && !opts.noLoad,
    async run(h, r) {
      const read = reads.filter((o) => r.loaded.has(o));
      if (read.length === 0) return { ok: true, detail: `not needed: none of ${reads.map((o) => `${o}.bpf.o`).join(', ')} loaded` };
      try {
        const file = (await h.loadObject(name)) || name;
        r.loaded.set(name, file);
        return { ok: true, detail: `${loadedDetail(name, file)}; reads the maps of ${read.join(', ')}` };
      } catch (err) {
        return {
          ok: false,
          detail: `${loss}: ${messageOf(err).split('\n')[0]}`,
          fix: `none: ${read.join(', ')} keep${read.length === 1 ? 's' : ''} working through bpftool`,
        };
      }
    },
  })),
];

/** A load that passed: which variant, and what the compat one gives up. */
function loadedDetail(name: string, file: string | void): string {
  if (!file || file === name) return 'loaded, attached and detached';
  return `loaded, attached and detached: ${file}.bpf.o, the compat variant (the kernel refused ${name}.bpf.o): ${COMPAT_LOSS[name] ?? 'no loss'}`;
}

/** What the CO-RE backend needs: root, BTF, bpffs, bpftool with autoattach, the kernel's run-queue accounting. */
function canUseBpf(passed: (id: string) => boolean): boolean {
  return ['privileges', 'btf', 'bpffs', 'bpftool', 'sched_info'].every(passed);
}

export async function doctor(opts: DoctorOptions = {}, host: DoctorHost = REAL_HOST): Promise<DoctorReport> {
  const checks: Check[] = [];
  const passed = (id: string): boolean => checks.find((c) => c.id === id)?.status === 'pass';
  const run: DoctorRun = { loaded: new Map() };
  for (const def of CHECKS) {
    if (def.when && !def.when(passed, opts)) continue;
    const o = await def.run(host, run);
    const fix = o.ok ? undefined : (o.fix ?? def.fix);
    checks.push({ id: def.id, title: def.title, status: o.ok ? 'pass' : def.otherwise, detail: o.detail, ...(fix ? { fix } : {}) });
  }
  const loadOk = checks.find((c) => c.id === 'load')?.status !== 'fail';
  const backend =
    canUseBpf(passed) && loadOk ? 'bpf' : ['privileges', 'bpftrace', 'tracefs', 'sched_info'].every(passed) ? 'bpftrace' : null;
  return { ok: backend !== null, backend, checks };
}

export const command: CommandSpec<DoctorOptions, DoctorReport> = {
  options: (_args, flags) => ({ noLoad: flags.load === false }),
  run: doctor,
  output: { indent: 2, view: async () => line((await import('../output/doctor-view.js')).renderDoctor) },
  after: (r) => ({ exitCode: r.ok ? undefined : 1 }),
};
