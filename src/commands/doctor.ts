/**
 * `tuner doctor`: can tuner run here, and if not, what fixes it. Every check
 * says pass, warn or fail and, unless it passes, the command that fixes it.
 * `ok` is true only when `watch sched` can run, which the last check proves
 * by loading and unloading the real sched object.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { bpftoolVersion } from '../tools/bpftool.js';
import { runTool } from '../tools/run.js';
import { detectLayout } from '../cgroup/layout.js';
import { isMounted } from '../procfs/mounts.js';
import { readKernelConfig } from '../procfs/kconfig.js';
import { loadInstance } from '../loader/instance.js';
import { messageOf } from '../errors.js';
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


export async function doctor(opts: DoctorOptions = {}): Promise<DoctorReport> {
  const checks: Check[] = [];
  const add = (c: Check): Check => (checks.push(c), c);
  const kconfig = readKernelConfig();
  const kopt = (name: string): string | undefined => kconfig?.get(name);

  add({ id: 'kernel', title: 'kernel', status: 'pass', detail: `${os.release()} (${os.arch()})` });

  const caps = effectiveCaps();
  const has = (bit: bigint): boolean => hasCap(caps, bit);
  const privileged = canLoadBpf(caps);
  add({
    id: 'privileges',
    title: 'privileges',
    status: privileged ? 'pass' : 'fail',
    detail: privileged
      ? `uid ${process.getuid?.()}, ${has(CAP_SYS_ADMIN) ? 'CAP_SYS_ADMIN' : 'CAP_BPF + CAP_PERFMON'}`
      : `uid ${process.getuid?.()} lacks CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN)`,
    ...(privileged ? {} : { fix: 'run as root: sudo npx tuner ...' }),
  });

  const btf = existsSync('/sys/kernel/btf/vmlinux');
  add({
    id: 'btf',
    title: 'kernel BTF',
    status: btf ? 'pass' : 'fail',
    detail: btf ? '/sys/kernel/btf/vmlinux' : 'no /sys/kernel/btf/vmlinux: CO-RE objects cannot relocate',
    ...(btf ? {} : { fix: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y' }),
  });

  const bpffs = isMounted('/sys/fs/bpf', 'bpf');
  add({
    id: 'bpffs',
    title: 'bpffs',
    status: bpffs ? 'pass' : 'fail',
    detail: bpffs ? 'mounted on /sys/fs/bpf' : 'not mounted on /sys/fs/bpf',
    ...(bpffs ? {} : { fix: 'mount -t bpf bpf /sys/fs/bpf' }),
  });

  const tracefs = isMounted('/sys/kernel/tracing', 'tracefs') || isMounted('/sys/kernel/debug/tracing', 'tracefs');
  add({
    id: 'tracefs',
    title: 'tracefs',
    status: tracefs ? 'pass' : 'warn',
    detail: tracefs ? 'mounted' : 'not mounted: bpftrace probes and classic tracepoints need it',
    ...(tracefs ? {} : { fix: 'mount -t tracefs tracefs /sys/kernel/tracing' }),
  });

  let autoattach = false;
  try {
    const v = await bpftoolVersion();
    autoattach = v.autoattach;
    add({
      id: 'bpftool',
      title: 'bpftool',
      status: v.autoattach ? 'pass' : 'fail',
      detail: v.autoattach ? `${v.version}, with autoattach` : `${v.version}: no autoattach (needs 7.2 or newer)`,
      ...(v.autoattach ? {} : { fix: 'sudo scripts/setup.sh (installs bpftool from bookworm-backports on Debian 12)' }),
    });
  } catch (err) {
    add({ id: 'bpftool', title: 'bpftool', status: 'fail', detail: `not usable: ${messageOf(err).split('\n')[0]}`, fix: 'sudo scripts/setup.sh' });
  }

  let bpftrace = false;
  try {
    const out = await runTool('bpftrace', ['--version'], { timeoutMs: 10_000 });
    bpftrace = true;
    add({ id: 'bpftrace', title: 'bpftrace', status: 'pass', detail: out.trim() });
  } catch {
    add({ id: 'bpftrace', title: 'bpftrace', status: 'warn', detail: 'not installed: the bpftrace backend and flexible probes are unavailable', fix: 'apt-get install bpftrace' });
  }

  const layout = detectLayout();
  const where = Object.entries(layout.byController)
    .filter(([c]) => ['cpu', 'cpuset', 'memory', 'io', 'blkio'].includes(c))
    .map(([c, h]) => `${c}: v${h.version} ${h.mountPoint}`)
    .join(', ');
  add({
    id: 'cgroups',
    title: 'cgroup layout',
    status: layout.cpu ? 'pass' : 'warn',
    detail: `${layout.mode}${where ? `; ${where}` : ''}${layout.unified ? `; unified at ${layout.unified.mountPoint}` : ''}`,
    ...(layout.cpu ? {} : { fix: 'mount the cpu controller (cgroup v2: mount -t cgroup2 none /sys/fs/cgroup)' }),
  });

  let psi = false;
  try {
    accessSync('/proc/pressure/cpu', constants.R_OK);
    readFileSync('/proc/pressure/cpu', 'utf8');
    psi = true;
  } catch {
    /* psi off */
  }
  add({
    id: 'psi',
    title: 'PSI',
    status: psi ? 'pass' : 'warn',
    detail: psi ? '/proc/pressure/{cpu,memory,io}' : 'no /proc/pressure: pressure signals and pressure_backoff are unavailable',
    ...(psi ? {} : { fix: 'boot with psi=1 (CONFIG_PSI=y)' }),
  });

  const schedInfo = existsSync('/proc/self/schedstat');
  add({
    id: 'sched_info',
    title: 'SCHED_INFO',
    status: schedInfo ? 'pass' : 'fail',
    detail: schedInfo ? 'per-task run-queue accounting (/proc/PID/schedstat)' : 'no per-task run-queue accounting',
    ...(schedInfo ? {} : { fix: 'use a kernel with CONFIG_SCHED_INFO=y (selected by CONFIG_SCHEDSTATS or CONFIG_TASK_DELAY_ACCT)' }),
  });

  const kprobes = kopt('CONFIG_KPROBES') === 'y' || existsSync('/sys/kernel/tracing/kprobe_events');
  add({
    id: 'kprobes',
    title: 'kprobes',
    status: kprobes ? 'pass' : 'warn',
    detail: kprobes ? 'available' : 'not configured: tuner uses tracepoints only, kprobe-based extras are off',
    ...(kprobes ? {} : { fix: 'none needed; a kernel with CONFIG_KPROBES=y enables the optional hooks' }),
  });

  const canBpf = privileged && btf && bpffs && autoattach && schedInfo;
  if (canBpf && !opts.noLoad) {
    try {
      const inst = await loadInstance('sched', { tag: 'doctor' });
      inst.unload();
      add({ id: 'load', title: 'load sched.bpf.o', status: 'pass', detail: 'loaded, attached and detached' });
    } catch (err) {
      add({ id: 'load', title: 'load sched.bpf.o', status: 'fail', detail: messageOf(err).split('\n').slice(0, 3).join(' / '), fix: 'read the verifier message above; report it with `tuner doctor --json`' });
    }
  }
  const loadOk = checks.find((c) => c.id === 'load')?.status !== 'fail';
  const backend = canBpf && loadOk ? 'bpf' : privileged && bpftrace && tracefs && schedInfo ? 'bpftrace' : null;
  return { ok: backend !== null, backend, checks };
}

export const command: CommandSpec<DoctorOptions, DoctorReport> = {
  options: (_args, flags) => ({ noLoad: flags.load === false }),
  run: doctor,
  output: { indent: 2, view: async () => line((await import('../output/doctor-view.js')).renderDoctor) },
  after: (r) => ({ exitCode: r.ok ? undefined : 1 }),
};
