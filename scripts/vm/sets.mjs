// What runs inside each kernel: named sets of the kernel tests (files, and test names within them),
// and per kernel what is expected not to work yet, each with its reason (a named degradation), so a
// run stays honest: an excluded test is listed in the report, never silently skipped.

/**
 * A test selection: a file of test/kernel and the names of the tests in it (substrings of the full
 * name, describe title included: a describe title selects all of its tests).
 */
const MATRIX = [
  // The truth tests: the signals against the kernel's own accounting.
  { file: 'test/kernel/sched.test.ts', names: ['(a) run-queue wait agrees', '(b) context switches agree'] },
  { file: 'test/kernel/futex-io.test.ts', names: ['futex wait time agrees'] },
  // Socket bytes per process against the workload's own counts, in the variant the kernel takes and the compat one.
  { file: 'test/kernel/net-psi.test.ts', names: ['counts socket bytes per process'] },
  // io and net read through their dump iterators (bpftool where the kernel refuses them), against the bpftool path and the kernel's counts.
  { file: 'test/kernel/io-net-dump.test.ts', names: ['io dump iterator', 'net dump iterator', 'map iterators in doctor'] },
  // diagnose on the three loads.
  {
    file: 'test/kernel/diagnose.test.ts',
    names: ['more spinning threads than CPUs', 'threads contending on one mutex', 'synchronous direct reads on a loop device'],
  },
  // cgroup v2 (cpu.weight, cpu.max, cpuset.cpus, kill -9 and revert, labels) and two NUMA nodes.
  { file: 'test/kernel/cgroup-v2.test.ts', names: ['cgroup v2 '] },
  { file: 'test/kernel/numa.test.ts', names: ['numa_rebalance on two nodes'] },
];

/**
 * Kernel id -> tests that are expected to fail there, with the reason. Matched by file and name;
 * '*' holds what no emulated kernel can show (the host suite runs it).
 */
const EXPECTED_MISSING = {};

/**
 * Tests a kernel leaves to the others to keep the matrix within its time (CI runs it whole in about
 * 60 minutes on a 2-CPU machine), with the reason; listed as not run, like the expected failures.
 */
const TRIMMED = {};

/** Tests a kernel runs in place of a whole-file selection it lacks (matched like MATRIX entries). */
const INSTEAD = {};

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The vitest command line running `selection` in one start. */
export function vitest(selection) {
  const files = [...new Set(selection.map((s) => s.file))];
  const names = selection.flatMap((s) => s.names ?? []);
  const whole = selection.filter((s) => !s.names);
  // One vitest start (slow under emulation) for the whole set: file list plus one name pattern. The
  // pattern applies to every file, so a file wanted whole cannot share it with files filtered by name.
  if (whole.length && names.length)
    throw new Error(
      `test set: ${whole[0].file} has no names, and a whole file cannot run in one start with files selected by name: list its tests' names`,
    );
  const filter = names.length ? ` -t '${names.map(escape).join('|').replaceAll("'", "'\\''")}'` : '';
  return `node node_modules/vitest/vitest.mjs run --project kernel ${files.join(' ')}${filter}`;
}

/** The tests of `tests` to run on `kernel`, and those expected missing there (with their reasons). */
export function select(kernel, tests, expected = EXPECTED_MISSING) {
  const missing = [...(expected['*'] ?? []), ...(expected[kernel] ?? [])];
  const excluded = [];
  const selection = [];
  for (const t of tests) {
    const gone = missing.filter((m) => m.file === t.file);
    if (gone.some((m) => !m.name)) {
      excluded.push(...gone.map((m) => ({ what: t.file, reason: m.reason })));
      continue;
    }
    const names = (t.names ?? []).filter((n) => {
      const m = gone.find((g) => g.name === n);
      if (m) excluded.push({ what: `${t.file}: ${n}`, reason: m.reason });
      return !m;
    });
    if (t.names && !names.length) continue;
    selection.push(t.names ? { ...t, names } : t);
  }
  return { selection, excluded };
}

/** Environment of the tests inside: kernel tests required (a missing prerequisite fails). */
const ENV = { TUNER_REQUIRE_BPF: '1', TUNER_REQUIRE_CGROUP_V2: '1', TUNER_REQUIRE_NUMA: '1', CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' };

export const SETS = {
  /** The matrix set: truth tests, diagnose, the cgroup v2 and NUMA tests. */
  matrix: (kernel) => {
    // The host runs the whole suite in `npm test`; here it only gets the load probe for the table.
    if (kernel === 'host')
      return { command: 'true', env: ENV, excluded: [], describe: 'load probe (the host runs the full suite in npm test)' };
    const expected = { ...EXPECTED_MISSING, [kernel]: [...(EXPECTED_MISSING[kernel] ?? []), ...(TRIMMED[kernel] ?? [])] };
    const { selection, excluded } = select(kernel, [...MATRIX, ...(INSTEAD[kernel] ?? [])], expected);
    return { command: vitest(selection), env: ENV, excluded, describe: `${selection.length} test files` };
  },
  /** Only the object load probe and doctor (for the supported-kernels table). */
  probe: () => ({ command: 'true', env: ENV, excluded: [], describe: 'load probe only' }),
};

/** The runner's summary lines ("Test Files ...", "Tests ...") out of a console transcript. */
export function summaryLines(lines) {
  return lines.map((l) => l.trim()).filter((l) => /^(Test Files|Tests|Duration)\s/.test(l));
}

/**
 * What a failed run needs said where CI shows it (the console log stays in the VM's cache): per failed test
 * (vitest's "FAIL <file> > <test>" lines) its name, the first line of its error, and the lines the test
 * printed (its figures); at most `max` tests, each error cut at 600 characters and each printed line at 300.
 */
export function failureLines(lines, max = 8) {
  const cut = (s, n = 300) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const out = [];
  let shown = 0;
  for (let i = 0; i < lines.length && shown < max; i++) {
    const m = /^\s*FAIL\s+(.+?)\s*$/.exec(lines[i]);
    if (!m) continue;
    shown++;
    const name = m[1];
    out.push(`FAIL ${cut(name)}`);
    const error = lines.slice(i + 1).find((l) => l.trim() !== '');
    if (error) out.push(`  ${cut(error.trim(), 600)}`);
    // "stdout | <file> > <test>" (vitest names it without the project label), then the printed lines.
    const bare = name.replace(/^\|[^|]*\|\s*/, '');
    const at = lines.findIndex((l) => /^\s*std(out|err) \| /.test(l) && l.trim().replace(/^std(out|err) \| /, '') === bare);
    if (at >= 0) {
      for (const l of lines.slice(at + 1, at + 4)) {
        if (l.trim() === '') break;
        out.push(`  printed: ${cut(l.trim())}`);
      }
    }
  }
  return out;
}

/**
 * The guest kernel's own fault reports in a console transcript (printk lines, "[  12.345678] ..."):
 * an oops, a BUG, a general protection or double fault, a soft lockup, a hung task, an RCU stall. The guest may
 * survive one (the faulting task dies or hangs), so the command still reports an exit code; a test
 * that failed beside one says nothing about the product. Under TCG these come from the emulation
 * (seen: faults in cmpxchg16b paths, an int3 oops in __schedule). At most `max` lines.
 */
export function kernelFaults(lines, max = 3) {
  const fault =
    /^\s*\[\s*\d+\.\d+\]\s.*(Oops:|BUG:|general protection fault|double fault|Kernel panic|soft lockup|blocked for more than|detected stalls|self-detected stall)/;
  return lines
    .filter((l) => fault.test(l))
    .slice(0, max)
    .map((l) => l.trim());
}
