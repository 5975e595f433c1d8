/**
 * The VM harness's own logic, without booting anything: which tests a kernel runs and which it is
 * expected to lack, the vitest command line, the probe and summary parsing, qemu's argv.
 */
import { describe, expect, it } from 'vitest';
import { select, vitest, summaryLines, failureLines, kernelFaults } from '../../scripts/vm/sets.mjs';
import { kernelRow, mergeKernelsDoc, parseProbe } from '../../scripts/vm/report.mjs';
import { qemuArgs } from '../../scripts/vm/boot.mjs';

const TESTS = [
  { file: 'test/kernel/a.test.ts', names: ['(a) one', 'two'] },
  { file: 'test/kernel/b.test.ts', names: ['b all'] },
];

describe('vm harness', () => {
  it('drops the tests a kernel is expected to lack and lists each with its reason', () => {
    const expected = {
      '6.1': [{ file: 'test/kernel/a.test.ts', name: 'two', reason: 'no per-CPU run-queue length' }],
      '5.10': [{ file: 'test/kernel/b.test.ts', reason: 'no task local storage for tracing programs (5.11)' }],
    };
    expect(select('6.12', TESTS, expected)).toEqual({ selection: TESTS, excluded: [] });
    const six = select('6.1', TESTS, expected);
    expect(six.selection).toEqual([{ file: 'test/kernel/a.test.ts', names: ['(a) one'] }, TESTS[1]]);
    expect(six.excluded).toEqual([{ what: 'test/kernel/a.test.ts: two', reason: 'no per-CPU run-queue length' }]);
    const five = select('5.10', TESTS, expected);
    expect(five.selection).toEqual([TESTS[0]]);
    expect(five.excluded).toEqual([{ what: 'test/kernel/b.test.ts', reason: 'no task local storage for tracing programs (5.11)' }]);
  });

  it('runs the whole selection in one vitest start, names as one escaped pattern', () => {
    expect(vitest(TESTS)).toBe(
      "node node_modules/vitest/vitest.mjs run --project kernel test/kernel/a.test.ts test/kernel/b.test.ts -t '\\(a\\) one|two|b all'",
    );
  });

  it('refuses a whole file beside files selected by name (one pattern would run every file whole)', () => {
    const mixed = [...TESTS, { file: 'test/kernel/c.test.ts' }];
    expect(() => vitest(mixed)).toThrow(/test\/kernel\/c\.test\.ts has no names/);
    expect(vitest([{ file: 'test/kernel/c.test.ts' }])).toBe(
      'node node_modules/vitest/vitest.mjs run --project kernel test/kernel/c.test.ts',
    );
  });

  it("reads the load probe, doctor's JSON and the runner's summary from a console transcript", () => {
    const lines = [
      '=== LOAD sched ok',
      '=== LOAD io fail failed to load: -22',
      "=== LOAD futex ok compat variant (default: map 'futex_tasks': failed to create)",
      '=== DOCTOR-BEGIN',
      '{"ok": true, "backend": "bpf",',
      ' "checks": []}',
      '=== DOCTOR-END',
      '  Test Files  1 failed | 4 passed (5)',
      '       Tests  1 failed | 11 passed (12)',
    ];
    expect(parseProbe(lines)).toEqual({
      loads: [
        { object: 'sched', ok: true, reason: '' },
        { object: 'io', ok: false, reason: 'failed to load: -22' },
        { object: 'futex', ok: true, reason: "compat variant (default: map 'futex_tasks': failed to create)" },
      ],
      doctor: { ok: true, backend: 'bpf', checks: [] },
    });
    expect(summaryLines(lines)).toEqual(['Test Files  1 failed | 4 passed (5)', 'Tests  1 failed | 11 passed (12)']);
  });

  it('names each failed test with its error and what it printed, from a console transcript', () => {
    const lines = [
      'stdout | test/kernel/a.test.ts > grp > passes',
      'figure of a test that passed',
      '',
      'stdout | test/kernel/a.test.ts > grp > fails here',
      'used 1.51 CPUs',
      'step 1.21 CPUs',
      '',
      ' FAIL  |kernel| test/kernel/a.test.ts > grp > fails here',
      'AssertionError: expected 1 to be 2 // Object.is equality',
      '',
      ' FAIL  |kernel| test/kernel/b.test.ts > other > throws',
      '',
      `Error: ${'x'.repeat(700)}`,
      '   Test Files  2 failed (2)',
    ];
    const out = failureLines(lines);
    expect(out.slice(0, 4)).toEqual([
      'FAIL |kernel| test/kernel/a.test.ts > grp > fails here',
      '  AssertionError: expected 1 to be 2 // Object.is equality',
      '  printed: used 1.51 CPUs',
      '  printed: step 1.21 CPUs',
    ]);
    expect(out[4]).toBe('FAIL |kernel| test/kernel/b.test.ts > other > throws');
    expect(out[5]).toMatch(/^ {2}Error: x+…$/);
    expect(out[5].length).toBe(602);
    expect(out).toHaveLength(6);
    expect(failureLines(lines, 1)).toHaveLength(4);
    expect(failureLines(['   Tests  3 passed (3)'])).toEqual([]);
  });

  it("finds the guest kernel's fault reports, and only its printk lines, in a console transcript", () => {
    const lines = [
      '[    3.101000] Run /init as init process',
      'stdout | test/kernel/a.test.ts > grp > BUG: a test that names a bug',
      '[  212.338117] BUG: kernel NULL pointer dereference, address: 0000000000000008',
      '[  212.338200] Oops: 0000 [#1] PREEMPT SMP NOPTI',
      '[  212.338300] RIP: 0010:kmem_cache_alloc+0x9b/0x2f0',
      '[  300.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [bpftool:480]',
      '[  301.000000] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:',
      ' FAIL  |kernel| test/kernel/a.test.ts > grp > general protection fault in a name',
    ];
    expect(kernelFaults(lines)).toEqual([
      '[  212.338117] BUG: kernel NULL pointer dereference, address: 0000000000000008',
      '[  212.338200] Oops: 0000 [#1] PREEMPT SMP NOPTI',
      '[  300.000000] watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [bpftool:480]',
    ]);
    expect(kernelFaults(lines, 5)).toHaveLength(4);
    expect(kernelFaults(lines, 1)).toHaveLength(1);
    expect(kernelFaults(['[  158.347013] reboot: Power down'])).toEqual([]);
  });

  it('writes a kernel row from its run, and a run of one kernel replaces only its row', () => {
    const lines = [
      '=== LOAD net_sock ok compat variant (default: failed to load: -3)',
      '=== LOAD net_drop fail failed to load: -22',
      '=== DOCTOR-BEGIN',
      JSON.stringify({
        ok: true,
        backend: 'bpf',
        checks: [
          { id: 'kernel', title: 'kernel', status: 'pass', detail: '6.1.0-50-cloud-amd64 (x64)' },
          { id: 'load:net_drop', title: 'load net_drop.bpf.o', status: 'warn', detail: 'no packet drops: refused' },
          {
            id: 'load:net_sock',
            title: 'load net_sock.bpf.o',
            status: 'pass',
            detail:
              'loaded, attached and detached: net_sock_compat.bpf.o, the compat variant (the kernel refused net_sock.bpf.o): fewer families',
          },
        ],
      }),
      '=== DOCTOR-END',
      '       Tests  9 passed | 3 skipped (12)',
    ];
    const run = (id: string) => ({
      k: { id },
      ok: true,
      booted: true,
      lines,
      seconds: 250.4,
      pkg: `linux-image-${id}`,
      set: { excluded: [{ what: 'test/kernel/x.test.ts: y', reason: 'slow' }] },
      probe: parseProbe(lines),
    });
    const row = kernelRow(run('6.1'));
    expect(row).toBe(
      '| 6.1 | 6.1.0-50-cloud-amd64 (x64) | linux-image-6.1 | net_sock (compat variant) | net_drop (failed to load: -22) | bpf | load net_drop.bpf.o: no packet drops: refused; load net_sock.bpf.o: net_sock_compat.bpf.o, the compat variant (the kernel refused net_sock.bpf.o): fewer families | test/kernel/x.test.ts: y (slow) | Tests 9 passed \\| 3 skipped (12); 250 s |',
    );
    const order = ['5.10', '6.1', '6.12', 'host'];
    const all = mergeKernelsDoc(
      '',
      [
        ['6.12', kernelRow(run('6.12'))],
        ['5.10', kernelRow(run('5.10'))],
      ],
      order,
    );
    // A row of the older layout (no Matrix column) is dropped.
    const again = mergeKernelsDoc(`${all}| Kernel | Package |\n| 6.1.0-50-cloud-amd64 (x64) | old |\n`, [['6.1', row]], order);
    const ids = again
      .split('\n')
      .filter((l) => /^\| \d/.test(l))
      .map((l) => l.split(' | ')[0]);
    expect(ids).toEqual(['| 5.10', '| 6.1', '| 6.12']);
    // Rerunning a kernel replaces its row (the header is not a row).
    const replaced = mergeKernelsDoc(again, [['6.1', row.replace('250 s', '99 s')]], order);
    expect(replaced.split('\n').filter((l) => l.startsWith('| 6.1 '))).toEqual([row.replace('250 s', '99 s')]);
    expect(replaced.split('\n').filter((l) => l.startsWith('| Matrix '))).toHaveLength(1);
  });

  it('boots 2 vCPUs on two NUMA nodes, pure cgroup v2, panic ends qemu', () => {
    const a: string[] = qemuArgs('K', 'I');
    expect(a.slice(a.indexOf('-smp'), a.indexOf('-smp') + 2)).toEqual(['-smp', '2']);
    expect(a.filter((x) => x.startsWith('node,nodeid='))).toEqual(['node,nodeid=0,cpus=0,memdev=m0', 'node,nodeid=1,cpus=1,memdev=m1']);
    expect(a[a.indexOf('-cpu') + 1]).toBe('qemu64,-cx16');
    expect(a[a.indexOf('-append') + 1]).toMatch(/cgroup_no_v1=all.*panic=-1/);
  });
});
