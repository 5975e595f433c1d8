/**
 * `tuner diagnose` end to end, on workloads this test starts, each with a
 * known bottleneck; and its edge cases. Prints, per workload, the top
 * finding, its evidence line and the command's run time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { execa } from 'execa';
import { start, type Running } from '../helpers/workloads.js';
import { tuner, CLI } from '../helpers/cli.js';
import { makeLoop, type LoopDevice } from '../helpers/loop.js';
import { leftoverCgroups, makeCgroup, type TestCgroup, type TestCgroupTree } from '../helpers/cgroups.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';
import { pickCpus } from '../helpers/cpus.js';
import os from 'node:os';
import { impact, type Finding } from '../../src/diagnose/findings.js';

const running: Running[] = [];
const loops: LoopDevice[] = [];
const cgroups: TestCgroupTree[] = [];

/** A test cgroup on the v1 cpu hierarchy with two children, hog and victim, at the given cpu.shares. */
function hogAndVictim(hogShares: number, victimShares: number, parentShares?: number): { hog: TestCgroup; victim: TestCgroup } {
  const parent = makeCgroup('/sys/fs/cgroup/cpu');
  cgroups.push(parent);
  if (parentShares !== undefined) parent.write('cpu.shares', String(parentShares));
  const hog = parent.child('hog');
  const victim = parent.child('victim');
  hog.write('cpu.shares', String(hogShares));
  victim.write('cpu.shares', String(victimShares));
  return { hog, victim };
}
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  for (const l of loops.splice(0)) l.detach();
  for (const c of cgroups.splice(0)) c.remove();
  expect(leftoverPins()).toEqual([]);
  expect(leftoverCgroups(['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/unified'])).toEqual([]);
});

interface Report {
  pid: number;
  exited: boolean;
  findings: Array<{
    kind: string;
    severity: string;
    summary: string;
    evidence: { line: string } & Record<string, unknown>;
    suggest: Array<{ recipe: string | null; command: string }>;
  }>;
  signals: Record<string, unknown>;
  summary: Record<string, unknown>;
  missing: unknown[];
}

async function diagnose(label: string, args: string[]): Promise<Report> {
  const t0 = Date.now();
  const r = await tuner(['diagnose', '--json', '--duration', '3s', ...args]);
  const secs = ((Date.now() - t0) / 1000).toFixed(2);
  expect(r.exitCode, String(r.stderr)).toBe(0);
  const rep = JSON.parse(String(r.stdout)) as Report;
  const top = rep.findings[0]!;
  console.log(
    `diagnose [${label}] in ${secs} s: top ${top.severity} ${top.kind}; evidence: ${top.evidence.line}; all: ${rep.findings.map(describeFinding).join(', ')}`,
  );
  return rep;
}

const kinds = (r: Report): string[] => r.findings.map((f) => f.kind);

/** "kind severity (impact)": the figure findings of one severity are ranked by, so a failed order shows its margins. */
function describeFinding(f: Report['findings'][number]): string {
  return `${f.kind} ${f.severity} (${impact(f as Finding).toFixed(4)})`;
}

/** A thread's schedstat (on-CPU ns, run-queue wait ns, timeslices) and state, from the kernel's own accounting. */
function threadNow(pid: number, tid: number): { oncpu: number; delay: number; slices: number; state: string } {
  const [oncpu, delay, slices] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return { oncpu: oncpu!, delay: delay!, slices: slices!, state: stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) };
}

describe.skipIf(skipKernel)('tuner diagnose', () => {
  it('more spinning threads than CPUs -> cpu-contention first, with a recipe command', async () => {
    // On one CPU the test picks: three spinners queue there on any host (on all of a host's CPUs they would not
    // on one with more than two).
    const spin = await start('spin', [3, 0], { cpus: pickCpus(1) });
    running.push(spin);
    const rep = await diagnose('3 spinners on one CPU', ['--pid', String(spin.pid)]);
    expect(rep.findings[0]!.kind).toBe('cpu-contention');
    expect(rep.findings[0]!.severity).not.toBe('info');
    expect(rep.findings[0]!.suggest[0]!.command).toBe(`tuner run recipes/spread-hot-threads.yaml --pid ${spin.pid}`);
    expect(rep.findings[0]!.evidence.wait_share as number).toBeGreaterThan(0.2);
    expect(kinds(rep)).not.toContain('lock-contention');
    expect(kinds(rep)).not.toContain('healthy');
  });

  it('threads contending on one mutex -> lock-contention', async () => {
    // The holder sleeps in the lock: contention that needs almost no CPU, so the finding is the
    // same on a machine that other work keeps busy (a spinning holder turns it into cpu-contention).
    // Eight threads, so that about 7 of the 9 (with the main thread) wait at any time: with four, 3 of 5 at best,
    // and under emulation the hand-overs left 51-54% of thread time, at the critical threshold of 50% (below it
    // the finding is a warning, and a critical cpu-contention of the same threads ranks first).
    const lw = await start('lockwait', [8, 120, 300, 'sleep']);
    running.push(lw);
    lw.send('go');
    const rep = await diagnose('8 threads on one mutex', ['--pid', String(lw.pid)]);
    expect(rep.findings[0]!.kind).toBe('lock-contention');
    expect((rep.findings[0]!.evidence.hot_word as { waiters: number }).waiters).toBeGreaterThanOrEqual(2);
  });

  it('synchronous direct reads on a loop device -> io-wait', async () => {
    const loop = makeLoop();
    loops.push(loop);
    const dr = await start('dread', [loop.dev, 120, 64, 'rand']);
    running.push(dr);
    dr.send('go');
    const rep = await diagnose('O_DIRECT reads on a loop device', ['--pid', String(dr.pid)]);
    expect(rep.findings[0]!.kind).toBe('io-wait');
    expect((rep.findings[0]!.evidence.device as { dev: string }).dev).toBe(loop.name);
  });

  it('a cgroup with a tight CPU quota -> cpu-throttling', async () => {
    const cg = makeCgroup('/sys/fs/cgroup/cpu');
    cgroups.push(cg);
    cg.write('cpu.cfs_period_us', '100000');
    cg.write('cpu.cfs_quota_us', '20000'); // 0.2 CPU
    const spin = await start('spin', [1, 0]);
    running.push(spin);
    cg.add(spin.pid);
    const rep = await diagnose('spinner under a 0.2-CPU quota', ['--pid', String(spin.pid)]);
    expect(rep.findings[0]!.kind).toBe('cpu-throttling');
    expect(rep.findings[0]!.severity).toBe('critical');
    expect(rep.summary.cpu_quota_cpus).toBe(0.2);
    expect(rep.summary.cpu_pct as number).toBeLessThan(30);
  });

  it('an idle sleeper -> healthy', async () => {
    const sleeper = execa('sleep', ['60']);
    try {
      const rep = await diagnose('idle sleeper', ['--pid', String(sleeper.pid)]);
      expect(kinds(rep)).toEqual(['healthy']);
      expect(rep.findings[0]!.severity).toBe('info');
    } finally {
      sleeper.kill('SIGKILL');
      await sleeper.catch(() => {});
    }
  });

  it('a workload with two problems lists both (lock contention under a tight quota)', async () => {
    const cg = makeCgroup('/sys/fs/cgroup/cpu');
    cgroups.push(cg);
    cg.write('cpu.cfs_quota_us', '50000'); // 0.5 CPU
    // The lock holder sleeps in the lock, so the threads' futex wait does not depend on the CPU they get (with a
    // spinning holder it fell from 36% to under 20% of thread time when other work kept the machine busy); a spinner
    // in the same cgroup uses up the quota. Eight threads on the lock, as in the mutex test above.
    const lw = await start('lockwait', [8, 120, 300, 'sleep']); // until stopped, however long loading takes
    const spin = await start('spin', [1, 0]);
    running.push(lw, spin);
    cg.add(lw.pid);
    cg.add(spin.pid);
    lw.send('go');
    const rep = await diagnose('mutex contention under a 0.5-CPU quota', ['--pid', String(lw.pid)]);
    expect(kinds(rep)).toContain('lock-contention');
    expect(kinds(rep)).toContain('cpu-throttling');
  });

  it('a victim behind a hog cgroup -> noisy-neighbor names the hog cgroup', async () => {
    // The rule names one cgroup that holds half the CPU. The test's parent competes with the tasks of the root
    // cgroup (1024 each on cgroup v1), tuner's own among them: at 8192 the hog keeps the larger part beside up to
    // about eight busy tasks of other work, and tuner still gets its share (at 262144 it starved: diagnose took 128 s).
    // The hog at 10240, not more: at 262144 the victim sometimes does not run once in the window (diagnose then
    // reports it starved, the next test's case, rather than the neighbor this one is about).
    const { hog, victim } = hogAndVictim(10240, 2, 8192);
    // As many hog threads as the host has CPUs for this test: the victim waits wherever it runs.
    const h = await start('spin', [os.availableParallelism(), 0]);
    const v = await start('spin', [1, 0]);
    running.push(h, v);
    hog.add(h.pid);
    victim.add(v.pid);
    const rep = await diagnose('victim behind a hog cgroup', ['--pid', String(v.pid)]);
    expect(kinds(rep)).toContain('noisy-neighbor');
    const nn = rep.findings.find((f) => f.kind === 'noisy-neighbor')!;
    expect(nn.evidence.neighbor_cgroup).toBe(hog.path.replace('/sys/fs/cgroup/cpu', ''));
    expect(nn.suggest[0]!.command).toContain('recipes/noisy-neighbor.yaml --cgroup');
  });

  it('a thread that is runnable but never runs in the window -> critical cpu-contention that says it starved', async () => {
    // The kernel accounts a run-queue wait only when the task is switched in, so a thread queued for the whole window
    // shows none (in schedstat nor in the probe). Victim and hog spin on one CPU the test picks, in sibling cgroups at
    // cpu.shares 2 and 262144. If the victim ran during the window all the same (about 1 setup in 7 here), the setup
    // is retried, up to five times, never the assertion.
    const cpu = pickCpus(1);
    for (let attempt = 1; ; attempt++) {
      const { hog: hogCg, victim: victimCg } = hogAndVictim(262144, 2);
      // The hog is stopped first (afterEach stops in this order): the victim then runs, and can die.
      const hog = await start('spin', [1, 0], { cpus: cpu });
      const victim = await start('spin', [1, 0], { cpus: cpu });
      running.push(hog, victim);
      hogCg.add(hog.pid);
      victimCg.add(victim.pid);
      const tid = readdirSync(`/proc/${victim.pid}/task`)
        .map(Number)
        .find((t) => t !== victim.pid)!;
      // Its first turn in the new cgroup comes a few seconds after the move (3 s here); after that turn the next
      // is far off (none in the 12 s watched). Wait for that turn (up to 10 s: without one it is starved as well).
      const moved = threadNow(victim.pid, tid).slices;
      const deadline = Date.now() + 10_000;
      while (threadNow(victim.pid, tid).slices === moved && Date.now() < deadline) await sleep(20);
      const before = threadNow(victim.pid, tid);
      const rep = await diagnose('a thread starved on its CPU', ['--pid', String(victim.pid)]);
      const after = threadNow(victim.pid, tid);
      const starvedThrough = after.slices === before.slices && after.oncpu === before.oncpu && after.state === 'R';
      console.log(
        `attempt ${attempt}: victim thread ${tid} ${starvedThrough ? 'did not run' : 'ran'} during the window (timeslices ${before.slices} -> ${after.slices}, run_delay +${after.delay - before.delay} ns)`,
      );
      if (!starvedThrough && attempt < 5) {
        for (const r of running.splice(0)) await r.stop();
        for (const c of cgroups.splice(0)) c.remove();
        continue;
      }
      expect(starvedThrough, 'the victim ran in five setups out of five').toBe(true);
      // The kernel's own accounting shows no wait for it: only switching in would account one.
      expect(after.delay).toBe(before.delay);
      // Named as a run-queue problem (beside it, the hog's cgroup may be named its noisy neighbor), never healthy.
      expect(kinds(rep)).not.toContain('healthy');
      const f = rep.findings.find((x) => x.kind === 'cpu-contention')!;
      expect(f, JSON.stringify(rep.findings)).toBeDefined();
      expect(f.severity).toBe('critical');
      expect(f.evidence.starved_whole_window).toBe(1);
      expect(f.summary).toMatch(/starved: runnable the whole .* but never ran/);
      // Exact and bounded: the starved stretch is the window, never more; all the wait never exceeds threads x window.
      const windowNs = (rep as unknown as { duration_ms: number }).duration_ms * 1e6;
      expect(f.evidence.starved_wait_ns as number).toBeGreaterThan(0.9 * windowNs);
      expect(f.evidence.starved_wait_ns as number).toBeLessThanOrEqual(windowNs + 1e6);
      expect(f.evidence.runq_wait_ns as number).toBeLessThanOrEqual((rep.summary.threads as number) * (windowNs + 1e6));
      break;
    }
  });

  it('the target exits mid-run: reports what it gathered, says so, exits 0', async () => {
    // Ended once diagnose has pinned its probes (its window opens as they load), not at a fixed time that a slow
    // or busy host's loading could outlast.
    const short = await start('spin', [1, 0]);
    running.push(short);
    const run = tuner(['diagnose', '--json', '--duration', '20s', '--pid', String(short.pid)]);
    const deadline = Date.now() + 60_000;
    while (leftoverPins().length === 0 && Date.now() < deadline) await sleep(50);
    await sleep(500);
    await short.stop();
    const r = await run;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const rep = JSON.parse(String(r.stdout)) as Report;
    expect(rep.exited).toBe(true);
    expect(rep.findings.length).toBeGreaterThan(0);
    const human = await tuner(['diagnose', '--duration', '1s', '--pid', String(process.pid)]);
    expect(human.exitCode).toBe(0);
  });

  it('no such PID: exit 2 with a clear message, nothing loaded', async () => {
    const r = await tuner(['diagnose', '--pid', '4194303']);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(/--pid 4194303: no such process/);
  });

  it('without the privilege: exit 1 naming CAP_BPF and CAP_PERFMON, nothing loaded', async () => {
    // Root's user with every capability dropped: it lacks CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN, yet can
    // still read the checkout wherever it lives (another user could not read one in a 0700 directory).
    const r = await execa(
      'setpriv',
      [
        '--bounding-set=-all',
        '--inh-caps=-all',
        '--ambient-caps=-all',
        process.execPath,
        CLI,
        'diagnose',
        '--pid',
        String(process.pid),
        '--duration',
        '1s',
      ],
      { reject: false },
    );
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/CAP_BPF and CAP_PERFMON/);
    expect(String(r.stderr)).toMatch(/sudo tuner diagnose --pid/);
  });

  it('bad flags exit 2', async () => {
    for (const [args, msg] of [
      [['diagnose'], /give --pid PID or --cgroup PATH/],
      [['diagnose', '--pid', '1', '--duration', 'long'], /--duration: expected a duration/],
      [['diagnose', '--pid', '1', '--threshold', 'cpu.bogus=1'], /--threshold cpu.bogus: unknown threshold/],
      [['diagnose', '--pid', '1', '--threshold', 'cpu.wait_share.warn=x'], /expected a non-negative number/],
      [['diagnose', '--pid', '1', '--cgroup', '.'], /exactly one of --pid or --cgroup/],
    ] as const) {
      const r = await tuner([...args]);
      expect(r.exitCode, String(r.stderr)).toBe(2);
      expect(String(r.stderr)).toMatch(msg);
    }
    await sleep(1);
  });
});
