import { describe, expect, it } from 'vitest';
import { DUMP_LOSS, OBJECT_LOSS } from '../../src/signals/degradations.js';
import { CHECKS, doctor, type DoctorHost } from '../../src/commands/doctor.js';
import type { CgroupLayout } from '../../src/cgroup/layout.js';
import { ToolError } from '../../src/errors.js';
import { bpftraceStructFailure } from '../../src/signals/backend.js';

const V2: CgroupLayout = {
  mode: 'v2',
  hierarchies: [],
  unified: { version: 2, mountPoint: '/sys/fs/cgroup', controllers: ['cpu'] } as never,
  cpu: { version: 2, mountPoint: '/sys/fs/cgroup', controllers: ['cpu'] } as never,
  byController: {},
};

/** A host where every check passes. */
const good = (): DoctorHost => ({
  exists: () => true,
  readable: () => true,
  mounted: () => true,
  caps: () => 1n << 21n,
  uid: () => 0,
  bpftool: async () => ({ version: '7.5.0', autoattach: true }) as never,
  bpftrace: async () => 'bpftrace v0.17.0\n',
  layout: () => V2,
  kconfig: () => 'y',
  loadSched: async () => {},
  loadObject: async () => {},
  bpftraceStructs: async () => {},
});

/** One row per check: a host where only that check fails, and what the report then says. */
const ROWS: Array<{ id: string; status: 'warn' | 'fail'; host: Partial<DoctorHost>; fix: RegExp; backend: 'bpf' | 'bpftrace' | null }> = [
  { id: 'privileges', status: 'fail', host: { caps: () => 0n, uid: () => 1000 }, fix: /sudo/, backend: null },
  {
    id: 'btf',
    status: 'fail',
    host: { exists: (p) => p !== '/sys/kernel/btf/vmlinux' },
    fix: /CONFIG_DEBUG_INFO_BTF/,
    backend: 'bpftrace',
  },
  { id: 'bpffs', status: 'fail', host: { mounted: (p) => p !== '/sys/fs/bpf' }, fix: /mount -t bpf/, backend: 'bpftrace' },
  { id: 'tracefs', status: 'warn', host: { mounted: (_p, t) => t !== 'tracefs' }, fix: /mount -t tracefs/, backend: 'bpf' },
  {
    id: 'bpftool',
    status: 'fail',
    host: { bpftool: async () => ({ version: '7.1.0', autoattach: false }) as never },
    fix: /setup\.sh/,
    backend: 'bpftrace',
  },
  {
    id: 'bpftrace',
    status: 'warn',
    host: { bpftrace: () => Promise.reject(new Error('ENOENT')) },
    fix: /apt-get install bpftrace/,
    backend: 'bpf',
  },
  { id: 'cgroups', status: 'warn', host: { layout: () => ({ ...V2, cpu: undefined }) }, fix: /cgroup2/, backend: 'bpf' },
  { id: 'psi', status: 'warn', host: { readable: () => false }, fix: /psi=1/, backend: 'bpf' },
  { id: 'sched_info', status: 'fail', host: { exists: (p) => p !== '/proc/self/schedstat' }, fix: /CONFIG_SCHED_INFO/, backend: null },
  {
    id: 'kprobes',
    status: 'warn',
    host: { kconfig: () => undefined, exists: (p) => !p.includes('kprobe') },
    fix: /CONFIG_KPROBES/,
    backend: 'bpf',
  },
  {
    id: 'load',
    status: 'fail',
    host: { loadSched: () => Promise.reject(new Error('verifier: R1 invalid mem access\nmore')) },
    fix: /--backend auto uses it: the scheduler signal comes from bpftrace/,
    backend: 'bpftrace',
  },
  // Each other CO-RE object refused alone: a warning naming the loss; the scheduler's backend stays.
  ...Object.keys(OBJECT_LOSS).map((name) => ({
    id: `load:${name}`,
    status: 'warn' as const,
    host: {
      loadObject: (n: string) =>
        n === name ? Promise.reject(new Error(`could not load ${n}.bpf.o: libbpf: map 'x': failed to create`)) : Promise.resolve(),
    },
    fix: /other signals keep working/,
    backend: 'bpf' as const,
  })),
  // Each map iterator refused alone: a warning that its signal is read through bpftool instead.
  ...Object.keys(DUMP_LOSS).map((name) => ({
    id: `load:${name}`,
    status: 'warn' as const,
    host: {
      loadObject: (n: string) =>
        n === name ? Promise.reject(new Error(`could not load ${n}.bpf.o: libbpf: failed to load: -22`)) : Promise.resolve(),
    },
    fix: /working through bpftool/,
    backend: 'bpf' as const,
  })),
];

describe('tuner doctor checks', () => {
  it('has a row here for every check that can fail', () => {
    expect(ROWS.map((r) => r.id).sort()).toEqual(
      CHECKS.map((c) => c.id)
        .filter((id) => id !== 'kernel')
        .sort(),
    );
  });

  it('names the compat variant a kernel took, and what it gives up, in a passing load', async () => {
    const r = await doctor({}, { ...good(), loadSched: async () => 'sched_compat', loadObject: async (n: string) => n });
    const load = r.checks.find((c) => c.id === 'load')!;
    expect(load.status).toBe('pass');
    expect(load.detail).toMatch(
      /sched_compat\.bpf\.o, the compat variant \(the kernel refused sched\.bpf\.o\): on kernels before 5\.19 \(no bpf_map_lookup_percpu_elem\), no per-CPU run-queue length/,
    );
    expect(r.checks.find((c) => c.id === 'load:futex')!.detail).toBe('loaded, attached and detached');
    expect(r).toMatchObject({ ok: true, backend: 'bpf' });
  });

  it('says futex_wait and futex_waitv are covered, not missing, when futex took its compat variant (and loads neither)', async () => {
    const tried: string[] = [];
    const refuse = new Set(['futex', 'futex_wait', 'futex_waitv', 'net_sock']);
    const r = await doctor(
      {},
      {
        ...good(),
        loadObject: async (n: string) => {
          tried.push(n);
          if (n === 'futex' || n === 'net_sock') return `${n}_compat`;
          if (refuse.has(n)) throw new Error(`could not load ${n}.bpf.o: libbpf: map 'futex_tasks': failed to create`);
          return n;
        },
      },
    );
    expect(tried).not.toContain('futex_wait');
    expect(tried).not.toContain('futex_waitv');
    for (const id of ['load:futex_wait', 'load:futex_waitv']) {
      const c = r.checks.find((x) => x.id === id)!;
      expect(c.status).toBe('pass');
      expect(c.detail).toMatch(/not needed: futex_compat\.bpf\.o covers futex_waitv?\(2\)/);
    }
    expect(r.checks.find((c) => c.id === 'load:net_sock')!.detail).toMatch(
      /net_sock_compat\.bpf\.o, the compat variant.*inet, inet6 and unix/,
    );
    // The default futex object loaded: futex_wait is its own object again, and its refusal a warning.
    const r2 = await doctor(
      {},
      {
        ...good(),
        loadObject: async (n: string) => (refuse.has(n) && n !== 'futex' && n !== 'net_sock' ? Promise.reject(new Error('refused')) : n),
      },
    );
    expect(r2.checks.find((c) => c.id === 'load:futex_wait')!.status).toBe('warn');
  });

  it('says which maps a map iterator reads, and tries none whose hook objects all failed to load', async () => {
    const tried: string[] = [];
    const r = await doctor(
      {},
      {
        ...good(),
        loadObject: async (n: string) => {
          tried.push(n);
          if (n === 'io' || n === 'net_drop') throw new Error(`could not load ${n}.bpf.o: libbpf: refused`);
          return n;
        },
      },
    );
    expect(tried).not.toContain('io_dump');
    const io = r.checks.find((c) => c.id === 'load:io_dump')!;
    expect(io).toMatchObject({ status: 'pass', detail: 'not needed: none of io.bpf.o loaded' });
    const net = r.checks.find((c) => c.id === 'load:net_dump')!;
    expect(net).toMatchObject({ status: 'pass', detail: 'loaded, attached and detached; reads the maps of net_tcp, net_sock' });
    // Refused: the loss and its reason, and that net keeps working through bpftool.
    const r2 = await doctor(
      {},
      { ...good(), loadObject: async (n: string) => (n === 'net_dump' ? Promise.reject(new Error('failed to load: -22')) : n) },
    );
    expect(r2.checks.find((c) => c.id === 'load:net_dump')).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/^net is read through bpftool JSON at every read .*: failed to load: -22$/),
      fix: 'none: net_tcp, net_drop, net_sock keep working through bpftool',
    });
    expect(r2).toMatchObject({ ok: true, backend: 'bpf' });
  });

  it('passes everything on a good host, with the CO-RE backend', async () => {
    const r = await doctor({}, good());
    expect(r.checks.map((c) => [c.id, c.status])).toEqual(CHECKS.map((c) => [c.id, 'pass']));
    expect(r).toMatchObject({ ok: true, backend: 'bpf' });
  });

  it.each(ROWS)('$id: $status with a fix, and the backend that leaves', async ({ id, status, host, fix, backend }) => {
    const r = await doctor({}, { ...good(), ...host });
    const c = r.checks.find((x) => x.id === id)!;
    expect(c).toMatchObject({ status });
    expect(c.fix).toMatch(fix);
    expect(r.checks.filter((x) => x.id !== id && x.id !== 'load').every((x) => x.status === 'pass')).toBe(true);
    expect(r.backend).toBe(backend);
    expect(r.ok).toBe(backend !== null);
  });

  it('--no-load skips the load, and so does a host that cannot load', async () => {
    expect((await doctor({ noLoad: true }, good())).checks.map((c) => c.id)).not.toContain('load');
    expect((await doctor({}, { ...good(), caps: () => 0n })).checks.map((c) => c.id)).not.toContain('load');
  });
});

describe('tuner doctor: bpftrace that cannot compile kernel structs', () => {
  const noHeaders = {
    bpftraceStructs: () => Promise.reject(new Error("clang_workarounds.h:14:10: fatal error: 'linux/types.h' file not found\nmore")),
  };

  it('is a warning naming the missing header, with the package that provides it', async () => {
    const r = await doctor({}, { ...good(), ...noHeaders });
    expect(r.checks.find((c) => c.id === 'bpftrace')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining("fatal error: 'linux/types.h' file not found"),
      fix: expect.stringContaining('linux-libc-dev'),
    });
    expect(r.backend).toBe('bpf');
  });

  it("says bpftrace cannot resolve the kernel's structs (5.10 with bpftrace 0.17), not its compile error, and no header fix", async () => {
    const stderr = "stdin:1:31-44: ERROR: Unknown struct/union: 'struct task_struct'\nBEGIN { printf(...) }";
    const r = await doctor(
      {},
      { ...good(), bpftraceStructs: () => Promise.reject(new ToolError(['bpftrace', '-e', 'x'], { exitCode: 1, stderr })) },
    );
    const c = r.checks.find((x) => x.id === 'bpftrace')!;
    expect(c.status).toBe('warn');
    expect(c.detail).toMatch(
      /cannot resolve struct task_struct from this kernel's BTF.*the bpftrace backend is unavailable on this kernel/,
    );
    expect(c.detail).not.toMatch(/ERROR|stdin/);
    expect(c.fix).toMatch(/CO-RE backend/);
    expect(bpftraceStructFailure('ERROR: Cannot resolve unknown type "struct task_struct"')).toMatch(/struct task_struct/);
    expect(bpftraceStructFailure("fatal error: 'linux/types.h' file not found")).toBeUndefined();
  });

  it('leaves no backend when the scheduler object is refused too (auto would not run bpftrace either)', async () => {
    const r = await doctor({}, { ...good(), ...noHeaders, loadSched: () => Promise.reject(new Error('could not load sched.bpf.o')) });
    expect(r).toMatchObject({ ok: false, backend: null });
  });
});
