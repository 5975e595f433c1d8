/**
 * Fault injection on this kernel, with recipes/noisy-neighbor.yaml acting on
 * test cgroups: each fault is injected while `tuner run --apply --watch`
 * holds a changed knob (or is about to change it), and each test checks the
 * message, the exit code, and that nothing is left changed: the knob back at
 * its original, no journal, no pins, no test cgroup (the scene's cleanup).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { makeCgroup, type TestCgroupTree } from '../helpers/cgroups.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';
import { waitingOutsider } from '../helpers/outsider.js';
import { cleanup, CPU, noisyNeighbor, RECIPE } from '../helpers/noisy-neighbor.js';
import { startTuner, stopTuners, until, type TunerRun } from '../helpers/tuner-run.js';
import { start, workload, type Running } from '../helpers/workloads.js';
import { onlineCpus, pickCpus } from '../helpers/cpus.js';

/** Mounts a test made: `dir` ones are temporary directories (removed after), bind mounts over a file are not. */
const mounts: Array<{ at: string; dir: boolean }> = [];
const running: Running[] = [];
const tmpDirs: string[] = [];
const cgroups: TestCgroupTree[] = [];
/** The one CPU the workloads that must queue are pinned to (any CPU this process may use: not always CPU 0). */
const ONE_CPU = pickCpus(1);

function mounted(at: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === at);
}

afterEach(async () => {
  // Each step on its own: one that fails must not keep the others (and the scene's checks) from running.
  const problems: string[] = [];
  // First the runs a failed test left going (they revert and unpin on SIGTERM), while their journals, cgroups
  // and mounts are still there; a passing test leaves none.
  const left = await stopTuners();
  if (left > 0) problems.push(`${left} tuner run(s) left running`);
  for (const m of mounts.splice(0).reverse()) {
    try {
      if (mounted(m.at)) execFileSync('umount', ['-l', m.at]);
      if (m.dir) rmSync(m.at, { recursive: true, force: true });
    } catch (err) {
      problems.push(`${m.at}: ${String(err)}`);
    }
  }
  for (const r of running.splice(0)) await r.stop();
  for (const c of cgroups.splice(0)) {
    try {
      c.remove();
    } catch (err) {
      problems.push(`${c.path}: ${String(err)}`);
    }
  }
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  await cleanup();
  expect(problems).toEqual([]);
});

/** A fresh directory with a new mount of `type` on it (unmounted and removed after the test). */
function mountFresh(type: string, opts?: string): string {
  const d = mkdtempSync(path.join(tmpdir(), `tuner-fault-${type}-`));
  mounts.push({ at: d, dir: true });
  execFileSync('mount', ['-t', type, ...(opts ? ['-o', opts] : []), type, d]);
  return d;
}

/** Wait for the run to end; its exit code and every event. */
async function ended(run: TunerRun, timeoutMs = 30_000): Promise<{ code: number | undefined; summary: Record<string, any> | undefined }> {
  await until(() => run.proc.exitCode !== null || run.proc.signalCode !== null, timeoutMs, 'tuner to exit');
  await run.proc.catch(() => undefined);
  await new Promise((r) => setTimeout(r, 100)); // last stdout lines
  return { code: run.proc.exitCode ?? undefined, summary: run.events.find((e) => e.type === 'summary') };
}

/** Children of `pid` whose command name is `comm`. */
function childrenNamed(pid: number, comm: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const c = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (Number(rest[1]) === pid && c === comm) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * `bpftool -j link show ...`: the link's id, or undefined when there is none. Read from its JSON, not its
 * exit code: bpftool 7.5 exits 255 after printing a link it found.
 */
function linkId(args: string[]): number | undefined {
  const r = spawnSync('bpftool', ['-j', 'link', 'show', ...args], { encoding: 'utf8' });
  try {
    const out = JSON.parse(r.stdout) as { id?: unknown; error?: unknown };
    return typeof out.id === 'number' && out.error === undefined ? out.id : undefined;
  } catch {
    return undefined;
  }
}

/** IDs of the BPF links pinned anywhere under `dir` (maps and programs pinned there have none). */
function pinnedLinks(dir: string): number[] {
  const ids: number[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const id = linkId(['pinned', p]);
        if (id !== undefined) ids.push(id);
      }
    }
  };
  walk(dir);
  return ids;
}

/** A temporary directory for one test (removed after it). */
function tmp(prefix: string): string {
  const d = mkdtempSync(path.join(tmpdir(), `tuner-fault-${prefix}-`));
  tmpDirs.push(d);
  return d;
}

/** A copy of a shipped recipe with `edits` (from -> to) applied, in a temporary directory. */
function recipeCopy(name: string, edits: Array<[string, string]>): string {
  let text = readFileSync(new URL(`../../recipes/${name}`, import.meta.url), 'utf8');
  for (const [from, to] of edits) {
    expect(text, `recipes/${name} holds ${JSON.stringify(from)}`).toContain(from);
    text = text.replace(from, to);
  }
  const file = path.join(tmp('recipe'), name);
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

/**
 * The spin workload (THREADS threads, forever) on one CPU the test picks (ONE_CPU), running as user nobody: from a copy any user can
 * execute (the checkout may be private), started through taskset and setpriv, which exec it (same PID).
 */
async function spinAsNobody(threads: number): Promise<Running> {
  const dir = tmp('nobody');
  chmodSync(dir, 0o755);
  const bin = path.join(dir, 'spin');
  copyFileSync(workload('spin'), bin);
  chmodSync(bin, 0o755);
  const proc = execa('taskset', ['-c', ONE_CPU, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', bin, String(threads), '0'], {
    reject: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const r: Running = {
    pid: 0,
    proc,
    output: [],
    send: () => undefined,
    done: async () => (await proc, []),
    async stop() {
      if (proc.exitCode === null && proc.pid !== undefined) proc.kill('SIGKILL');
      await proc;
    },
  };
  running.push(r);
  let buf = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (c: string) => (buf += c));
  r.pid = Number(
    (await until(
      () => /^ready (\d+)/m.exec(buf)?.[1],
      10_000,
      'spin to be ready',
      () => ({ buf, exit: proc.exitCode }),
    ))!,
  );
  return r;
}

/** Cpus_allowed_list of every thread of `pid`, by TID. */
function threadAffinity(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`))
    out[tid] = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1]!;
  return out;
}

const linkExists = (id: number): boolean => linkId(['id', String(id)]) === id;

const step = (e: Record<string, any>): boolean => e.type === 'decision' && e.kind === 'step' && e.applied;

describe.skipIf(skipKernel)('faults', () => {
  it('the target cgroup is removed while tuner holds its knob: reported gone, nothing left', async () => {
    const { parent, hog, burn, journal, env } = await noisyNeighbor();
    const run = startTuner(['run', RECIPE, '--apply', '--watch', '--cgroup', parent.path], env);
    await run.waitFor(step);
    expect(hog.read('cpu.shares')).toBe('25600');
    // The hog's tasks leave, and its cgroup goes (an operator or its service manager).
    for (const pid of readFileSync(path.join(hog.path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean))
      writeFileSync(path.join(CPU, 'cgroup.procs'), pid);
    void burn;
    rmdirSync(hog.path);
    await new Promise((r) => setTimeout(r, 2000)); // a few windows without it
    run.proc.kill('SIGINT');
    const { code, summary } = await ended(run);
    console.log(
      `fault cgroup removed: exit ${code}; ${JSON.stringify(run.events.find((e) => e.type === 'notice')?.message)}; reverted at exit ${JSON.stringify(summary?.recipes?.[0]?.reverted)}; stderr ${JSON.stringify(run.stderr().slice(0, 300))}`,
    );
    expect(code).toBe(0);
    // Seen gone at the next window (a notice, the knob dropped) or, if the run ended first, at exit.
    const knob = path.join(hog.path, 'cpu.shares');
    const notice = run.events.find((e) => e.type === 'notice' && String(e.message).startsWith(`${knob} is gone`));
    const atExit = summary!.recipes[0].reverted;
    expect(
      notice !== undefined || (atExit.length === 1 && atExit[0].knob === knob && atExit[0].result === 'gone'),
      JSON.stringify(run.events),
    ).toBe(true);
    expect(atExit.filter((r: { result: string }) => r.result !== 'gone')).toEqual([]);
    expect(run.stderr()).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(journal.files()).toEqual([]);
    expect(leftoverPins()).toEqual([]);
  });

  it('the target process exits between journaling and writing: the write is reported gone, nothing left', async () => {
    const spin = await start('spin', [2, 0], { cpus: ONE_CPU });
    running.push(spin);
    const dir = mkdtempSync(path.join(tmpdir(), 'tuner-fault-exit-'));
    tmpDirs.push(dir);
    const j = path.join(dir, 'journal');
    // The shipped recipe also wants a CPU idle a third of the time; other work on a shared machine (a CI runner)
    // can keep the other CPU busy, and the fault is in the write, not in the choice: the copy acts on queued alone.
    const recipe = path.join(dir, 'spread.yaml');
    writeFileSync(
      recipe,
      readFileSync(new URL('../../recipes/spread-hot-threads.yaml', import.meta.url), 'utf8').replace(
        'all: [queued, idle_cpu]',
        'all: [queued]',
      ),
      { mode: 0o600 },
    );
    const run = startTuner(['run', recipe, '--apply', '--watch', '--pid', String(spin.pid)], {
      TUNER_JOURNAL_DIR: j,
      TUNER_TEST_NUDGE_PAUSE_MS: '3000',
    });
    const journaled = (): string[] => (existsSync(j) ? readdirSync(j).filter((f) => f.endsWith('.json')) : []);
    await until(
      () => journaled().length > 0,
      30_000,
      'a change to be journaled',
      () => ({
        exit: run.proc.exitCode,
        events: run.events,
        stderr: run.stderr(),
        spin: readFileSync(`/proc/${spin.pid}/status`, 'utf8').match(/^(State|Threads|Cpus_allowed_list):.*$/gm),
      }),
    );
    await spin.stop(); // the target exits mid-action
    const err = await run.waitFor((e) => e.type === 'error');
    console.log(`fault target exited: ${err.knob ?? ''}: ${err.message}`);
    expect(err.message).toMatch(/is gone/);
    await until(() => journaled().length === 0, 5000, 'the gone knob to leave the journal');
    run.proc.kill('SIGINT');
    const { code } = await ended(run);
    expect(code).toBe(0);
    expect(journaled()).toEqual([]);
    expect(run.stderr()).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(leftoverPins()).toEqual([]);
  });

  it("the session's bpftool is killed: the run restores its session and goes on, or ends with an error and reverts", async () => {
    const { parent, hog, journal, env } = await noisyNeighbor();
    // noisy-neighbor's scheduler signal reads through its pinned iterators; the I/O signal of readahead-sequential
    // reads its maps through the session's bpftool every window where the kernel refuses io's dump iterator (before
    // 5.13), which TUNER_MAP_READS=bpftool makes it do here (nothing in the scene reads a disk: it never acts).
    const readahead = new URL('../../recipes/readahead-sequential.yaml', import.meta.url).pathname;
    const run = startTuner(['run', RECIPE, readahead, '--apply', '--watch', '--cgroup', parent.path], {
      ...env,
      TUNER_MAP_READS: 'bpftool',
    });
    await run.waitFor(step);
    const bpftools = await until(
      () => {
        const b = childrenNamed(run.proc.pid!, 'bpftool');
        return b.length > 0 ? b : undefined;
      },
      10_000,
      "the run's bpftool",
    );
    for (const pid of bpftools) process.kill(pid, 'SIGKILL'); // bpftool processes of the tuner this test started
    // Either it ends (with an error) or it goes on reading through a new bpftool: wait for one or the other.
    await until(
      () => run.proc.exitCode !== null || childrenNamed(run.proc.pid!, 'bpftool').some((p) => !bpftools.includes(p)),
      15_000,
      'the run to end or start a new bpftool',
      () => ({ events: run.events.slice(-5), stderr: run.stderr() }),
    );
    if (run.proc.exitCode === null) {
      const again = childrenNamed(run.proc.pid!, 'bpftool');
      await new Promise((r) => setTimeout(r, 3000)); // a few windows through the new one
      console.log(`fault bpftool killed: the run restored its session (bpftool ${bpftools.join(',')} -> ${again.join(',')})`);
      expect(run.proc.exitCode).toBe(null);
      expect(run.events.filter((e) => e.type === 'error')).toEqual([]);
      run.proc.kill('SIGINT');
      const { code } = await ended(run);
      expect(code).toBe(0);
    } else {
      const { code } = await ended(run);
      console.log(`fault bpftool killed: exit ${code}; stderr ${JSON.stringify(run.stderr().slice(0, 400))}`);
      expect(code).not.toBe(0);
      expect(run.stderr()).toMatch(/bpftool/);
    }
    expect(run.stderr()).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(hog.read('cpu.shares')).toBe('262144');
    expect(journal.files()).toEqual([]);
    expect(leftoverPins()).toEqual([]);
  });

  it('its bpffs is unmounted under it (a bpffs of its own): the run ends with an error and reverts', async () => {
    const bpffs = mountFresh('bpf');
    const { parent, hog, journal, env } = await noisyNeighbor();
    const run = startTuner(['run', RECIPE, '--apply', '--watch', '--cgroup', parent.path], {
      ...env,
      TUNER_PIN_ROOT: path.join(bpffs, 'tuner'),
    });
    await run.waitFor(step);
    const links = pinnedLinks(path.join(bpffs, 'tuner'));
    expect(links.length).toBeGreaterThan(0);
    execFileSync('umount', ['-l', bpffs]);
    const { code } = await ended(run);
    // Nothing stays attached: every link the run had pinned there is freed with the unmounted bpffs.
    await until(
      () => links.every((id) => !linkExists(id)),
      10_000,
      'the links to be freed',
      () => links.filter(linkExists),
    );
    console.log(`fault bpffs unmounted: exit ${code}; stderr ${JSON.stringify(run.stderr().slice(0, 400))}`);
    expect(code).not.toBe(0);
    expect(run.stderr()).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(hog.read('cpu.shares')).toBe('262144');
    expect(journal.files()).toEqual([]);
    expect(existsSync(path.join(bpffs, 'tuner'))).toBe(false);
    expect(leftoverPins()).toEqual([]);
  });

  it('the journal directory is on a full filesystem: nothing is changed, the run says why', async () => {
    const fs = mountFresh('tmpfs', 'size=64k,mode=0700');
    const jdir = path.join(fs, 'journal');
    mkdirSync(jdir, { mode: 0o700 });
    try {
      writeFileSync(path.join(fs, 'fill'), Buffer.alloc(1 << 20));
    } catch {
      /* ENOSPC: full */
    }
    const { parent, hog } = await noisyNeighbor();
    const run = startTuner(['run', RECIPE, '--apply', '--watch', '--cgroup', parent.path], { TUNER_JOURNAL_DIR: jdir });
    const seen = new Set<string>();
    const sampler = setInterval(() => seen.add(hog.read('cpu.shares')), 50);
    try {
      const { code } = await ended(run, 40_000);
      console.log(`fault journal full: exit ${code}; stderr ${JSON.stringify(run.stderr().slice(0, 400))}`);
      expect(code).not.toBe(0);
      expect(run.stderr()).toMatch(/journal/i);
      expect(run.stderr()).toMatch(/ENOSPC|no space/i);
      expect(run.stderr()).not.toMatch(/internal error|at .*\.js:\d+/);
    } finally {
      clearInterval(sampler);
      run.proc.kill('SIGKILL');
    }
    expect([...seen]).toEqual(['262144']); // never changed
    expect(readdirSync(jdir).filter((f) => f.endsWith('.json'))).toEqual([]);
    expect(leftoverPins()).toEqual([]);
  });

  it('a knob that refuses the write (a read-only file): an error naming it, nothing changed, journal cleared', async () => {
    const { parent, hog, journal, env } = await noisyNeighbor();
    const knob = path.join(hog.path, 'cpu.shares');
    mounts.push({ at: knob, dir: false });
    execFileSync('mount', ['--bind', knob, knob]);
    execFileSync('mount', ['-o', 'remount,bind,ro', knob]);
    const run = startTuner(['run', RECIPE, '--apply', '--watch', '--cgroup', parent.path], env);
    const err = await run.waitFor((e) => e.type === 'error');
    console.log(`fault read-only knob: ${err.knob}: ${err.message}`);
    expect(err.knob).toBe(knob);
    expect(err.message).toMatch(/EROFS|read-only/);
    expect(hog.read('cpu.shares')).toBe('262144');
    run.proc.kill('SIGTERM');
    const { code } = await ended(run);
    expect(code).toBe(0);
    expect(journal.files()).toEqual([]);
    expect(leftoverPins()).toEqual([]);
  });

  it("a knob that refuses the write with EINVAL (a quota below a child's): an error naming it and the errno, nothing changed", async () => {
    // cgroup v1 refuses a cfs quota below one of a child's (EINVAL): the child "busy" may use all the host's CPUs
    // but 0.1, so the first step psi-backoff takes (0.8 times the CPUs the cgroup used, at most N - 0.1) is refused. Its burners, one more than the CPUs
    // (three on two), are the pressure on a host of any size, and use the whole machine (the recipe keeps the
    // cgroup at least a quarter of it).
    const parent = makeCgroup(CPU);
    cgroups.push(parent);
    const busy = parent.child('busy');
    busy.write('cpu.cfs_period_us', '100000');
    busy.write('cpu.cfs_quota_us', String(Math.round((onlineCpus() - 0.1) * 100_000)));
    const burn = await start('spin', [os.availableParallelism() + 1, 0]);
    running.push(burn);
    busy.add(burn.pid);
    // The recipe backs off only while tasks outside the scope wait for a CPU.
    const other = await waitingOutsider(CPU);
    cgroups.push(other.cg);
    running.push(other.spin);
    const dir = tmp('einval');
    const jdir = path.join(dir, 'journal');
    const recipe = recipeCopy('psi-backoff.yaml', [['for: 3', 'for: 2']]);
    const knob = path.join(parent.path, 'cpu.cfs_quota_us');
    const run = startTuner(['run', recipe, '--apply', '--watch', '--cgroup', parent.path], { TUNER_JOURNAL_DIR: jdir });
    const seen = new Set<string>();
    const sampler = setInterval(() => seen.add(parent.read('cpu.cfs_quota_us')), 50);
    try {
      const err = await run.waitFor((e) => e.type === 'error', 60_000);
      console.log(`fault EINVAL knob: ${err.knob}: ${err.message}`);
      expect(err.knob).toBe(knob);
      expect(err.message).toContain(knob);
      expect(err.message).toMatch(/EINVAL/);
      // The same refused step is not tried again window after window: a few more windows, no second error.
      await new Promise((r) => setTimeout(r, 4000));
      expect(run.events.filter((e) => e.type === 'error')).toHaveLength(1);
      run.proc.kill('SIGINT');
      const { code, summary } = await ended(run);
      expect(code).toBe(0);
      expect(summary!.recipes[0].reverted).toEqual([]);
    } finally {
      clearInterval(sampler);
    }
    expect([...seen]).toEqual(['-1']);
    expect(run.stderr()).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(existsSync(jdir) ? readdirSync(jdir).filter((f) => f.endsWith('.json')) : []).toEqual([]);
    expect(leftoverPins()).toEqual([]);
  });

  it("a knob that refuses the write with EPERM (affinity of another user's thread, no CAP_SYS_NICE): an error naming it, nothing changed", async () => {
    // Two threads of user nobody queue on one CPU; the tuner runs without CAP_SYS_NICE (a service unit or a
    // container whose bounding set lacks it), so the kernel refuses to change their affinity (EPERM).
    const spin = await spinAsNobody(2);
    const before = threadAffinity(spin.pid);
    expect(Object.values(before)).toEqual([ONE_CPU, ONE_CPU, ONE_CPU]);
    const recipe = recipeCopy('spread-hot-threads.yaml', [['all: [queued, idle_cpu]', 'all: [queued]']]);
    const jdir = path.join(tmp('eperm'), 'journal');
    const run = startTuner(['run', recipe, '--apply', '--watch', '--pid', String(spin.pid)], { TUNER_JOURNAL_DIR: jdir }, [
      'setpriv',
      '--inh-caps=-sys_nice',
      '--bounding-set=-sys_nice',
    ]);
    const err = await run.waitFor((e) => e.type === 'error', 60_000);
    console.log(`fault EPERM knob: ${err.knob}: ${err.message}`);
    expect(err.knob).toMatch(new RegExp(`^affinity of (pid ${spin.pid}|thread \\d+ \\(pid ${spin.pid}\\))$`));
    expect(err.message).toMatch(/EPERM/);
    expect(err.message).toMatch(/CAP_SYS_NICE/);
    await new Promise((r) => setTimeout(r, 4000));
    const errors = run.events.filter((e) => e.type === 'error');
    expect(new Set(errors.map((e) => e.knob)).size, JSON.stringify(errors)).toBe(errors.length); // each knob once
    expect(threadAffinity(spin.pid)).toEqual(before);
    run.proc.kill('SIGINT');
    const { code, summary } = await ended(run);
    expect(code).toBe(0);
    expect(summary!.recipes[0].reverted).toEqual([]);
    expect(threadAffinity(spin.pid)).toEqual(before);
    expect(run.stderr()).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(existsSync(jdir) ? readdirSync(jdir).filter((f) => f.endsWith('.json')) : []).toEqual([]);
    expect(leftoverPins()).toEqual([]);
  });

  it("two runs on the same subtree: the second leaves the first one's knob alone, and the original comes back", async () => {
    const { parent, hog, journal, env } = await noisyNeighbor();
    const a = startTuner(['run', RECIPE, '--apply', '--watch', '--cgroup', parent.path], env);
    await a.waitFor(step);
    expect(hog.read('cpu.shares')).toBe('25600');
    const b = startTuner(['run', RECIPE, '--apply', '--duration', '8s', '--cgroup', parent.path], env);
    const { code: codeB } = await ended(b, 60_000);
    console.log(
      `fault two runs: second exit ${codeB}; it refused ${b.events.filter((e) => e.type === 'refused').length} changes: ${JSON.stringify(b.events.find((e) => e.type === 'refused')?.reason)}`,
    );
    expect(codeB).toBe(0);
    expect(b.events.filter((e) => e.type === 'decision' && e.applied && e.kind === 'step')).toEqual([]);
    expect(hog.read('cpu.shares')).not.toBe('262144'); // still the first run's
    a.proc.kill('SIGINT');
    const { code: codeA } = await ended(a);
    expect(codeA).toBe(0);
    expect(hog.read('cpu.shares')).toBe('262144');
    expect(journal.files()).toEqual([]);
    expect(leftoverPins()).toEqual([]);
  });

  for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    it(`${sig} between journaling and writing a knob: the original stays or comes back, nothing left`, async () => {
      const { parent, hog, journal, env } = await noisyNeighbor();
      const run = startTuner(['run', RECIPE, '--apply', '--watch', '--cgroup', parent.path], { ...env, TUNER_TEST_NUDGE_PAUSE_MS: '2000' });
      await until(() => journal.files().length > 0, 30_000, 'a change to be journaled');
      run.proc.kill(sig);
      const { code } = await ended(run);
      console.log(`fault ${sig} mid-write: exit ${code}; cpu.shares ${hog.read('cpu.shares')}`);
      expect([0, { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 }[sig]]).toContain(code);
      expect(hog.read('cpu.shares')).toBe('262144');
      expect(journal.files()).toEqual([]);
      expect(leftoverPins()).toEqual([]);
    });
  }
});
