/**
 * `tuner record` and `tuner compare` end to end, on workloads this test
 * builds: run totals against the kernel's own accounting (the mutex workload
 * prints its threads' schedstat and switch counts before it exits), children
 * followed, failures and Ctrl-C, an injected regression (six threads on one
 * lock instead of two: more threads than CPUs), the same workload recorded
 * twice, and 200 comparisons of identical configurations from real runs.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { compare } from '../../src/commands/compare.js';
import { RecordProbes } from '../../src/record/probes.js';
import { measureRun } from '../../src/record/run.js';
import type { Profile } from '../../src/record/profile.js';
import { seededRandom } from '../../src/stats/rng.js';
import { CLI, tuner } from '../helpers/cli.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';
import { workload } from '../helpers/workloads.js';
import { pickCpus } from '../helpers/cpus.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tuner-record-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  expect(leftoverPins()).toEqual([]);
});

const file = (name: string): string => path.join(dir, name);
const load = (p: string): Profile => JSON.parse(readFileSync(p, 'utf8')) as Profile;

/** The mutex workload: `threads` threads share a fixed amount of work behind one lock. */
function mutex(threads: number, iterations = 40000): string[] {
  return [workload('mutex'), String(threads), String(iterations), '2000', '30000'];
}

/**
 * The mutex workload on two CPUs the test picks (taskset execs it: the same process): more threads than
 * CPUs means run-queue waits on a host of any size, not only on one with two CPUs.
 */
const TWO_CPUS = pickCpus(2);
function mutexOn2(threads: number, iterations = 40000): string[] {
  return ['taskset', '-c', TWO_CPUS, ...mutex(threads, iterations)];
}

async function record(out: string, command: string[], flags: string[] = []) {
  const r = await tuner(['record', '-o', out, ...flags, '--', ...command]);
  return r;
}

describe.skipIf(skipKernel)('tuner record (CLI)', () => {
  it('sums every thread of the run, in agreement with the kernel accounting the workload reports', async () => {
    const out = file('truth.json');
    const r = await record(out, mutex(3), ['--repeat', '3', '--warmup', '1', '--signals', 'sched,futex,psi']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const p = load(out);
    expect(p.ok).toBe(true);
    expect(p.runs).toHaveLength(3);
    expect(p.warmups).toHaveLength(1);
    expect(p.signals).toEqual(['sched', 'futex', 'psi']);
    expect(p.env.cpus).toBe(os.availableParallelism());
    expect(p.env.kernel).toBe(os.release());
    expect(p.env.tool.name).toBe('tuner');
    // The workload's stdout goes to tuner's stderr: one truth line per run, warm-up first.
    const truth = [...String(r.stderr).matchAll(/truth oncpu_ns=(\d+) run_delay_ns=(\d+) voluntary=(\d+) involuntary=(\d+)/g)].map((m) => ({
      oncpu: Number(m[1]),
      delay: Number(m[2]),
      switches: Number(m[3]) + Number(m[4]),
    }));
    expect(truth).toHaveLength(4);
    p.runs.forEach((run, i) => {
      const t = truth[i + 1]!;
      const m = run.metrics;
      console.log(
        `run ${run.run}: cpu ${m.cpu_ns} vs ${t.oncpu}, runq wait ${m['sched.runq_wait_ns']} vs ${t.delay}, switches ${m['sched.switches']} vs ${t.switches}`,
      );
      expect(run.exit_code).toBe(0);
      // The probe adds the gate shell's few instructions and can miss the last tick of each thread's runtime.
      expect(Math.abs(m.cpu_ns! - t.oncpu)).toBeLessThan(0.05 * t.oncpu + 2e6);
      expect(Math.abs(m['sched.runq_wait_ns']! - t.delay)).toBeLessThan(0.05 * t.delay + 2e6);
      expect(Math.abs(m['sched.switches']! - t.switches)).toBeLessThan(0.1 * t.switches + 6);
      expect(m.wall_ns).toBeGreaterThan(m.cpu_ns! / 3);
      expect(m['futex.waits']).toBeGreaterThan(0); // at least the joins
      expect(m['futex.wait_ns']).toBeGreaterThan(0);
      expect(m['sched.runq_p99_us']).toBeGreaterThan(0);
      expect(run.details['host.busy_pct']).toBeGreaterThan(0);
    });
  });

  it('--alternate records two commands into two profiles, run by run, pairs in ABBA order', async () => {
    const a = file('alt-a.json');
    const b = file('alt-b.json');
    const r = await record(
      a,
      [...mutexOn2(2, 10000), '::', ...mutexOn2(4, 10000)],
      ['--alternate', b, '--repeat', '3', '--warmup', '1', '--signals', 'sched'],
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const pa = load(a);
    const pb = load(b);
    expect(pa.command).toEqual(mutexOn2(2, 10000));
    expect(pb.command).toEqual(mutexOn2(4, 10000));
    for (const p of [pa, pb]) {
      expect(p.ok).toBe(true);
      expect(p.runs.map((x) => x.run)).toEqual([1, 2, 3]);
      expect(p.warmups).toHaveLength(1);
    }
    // Pair 1: A then B; pair 2: B then A; pair 3: A then B.
    const t = (p: Profile, i: number): number => Date.parse(p.runs[i]!.started);
    expect(t(pa, 0)).toBeLessThan(t(pb, 0));
    expect(t(pb, 1)).toBeLessThan(t(pa, 1));
    expect(t(pa, 2)).toBeLessThan(t(pb, 2));
    expect(t(pb, 0)).toBeLessThan(t(pb, 1));
    // Four threads on two CPUs wait on the run queue in every run: the B runs are B's workload.
    for (const run of pb.runs) expect(run.metrics['sched.runq_wait_ns']).toBeGreaterThan(1e6);
    // Pair 2 is NEW then BASE: runs 3 and 4 of the 6.
    expect(String(r.stderr)).toMatch(/tuner record: run 3\/6, pair 2\/3, NEW .*alt-b\.json: /);
    expect(String(r.stderr)).toMatch(/tuner record: run 4\/6, pair 2\/3, BASE .*alt-a\.json: /);
    expect(String(r.stderr)).toMatch(/wrote .*alt-a\.json \(BASE, 3 runs\) and .*alt-b\.json \(NEW, 3 runs\), recorded in alternation/);
    expect(pa.alternated).toMatchObject({ side: 'base', partner: b, partner_command: mutexOn2(4, 10000), order: 'ABBA' });
    expect(pb.alternated).toMatchObject({ side: 'new', partner: a, partner_command: mutexOn2(2, 10000), order: 'ABBA' });
    expect(pa.alternated!.id).toBe(pb.alternated!.id);
    // compare knows they were recorded together: a note, not the different-commands warning.
    const c = await tuner(['compare', a, b, '--json']);
    const res = JSON.parse(String(c.stdout)) as { alternated: boolean; notes: string[]; warnings: string[] };
    expect(res.alternated).toBe(true);
    expect(res.notes.join(' ')).toMatch(/recorded together by `tuner record --alternate`/);
    expect(res.warnings.join(' ')).not.toMatch(/ran different commands/);
  });

  it('follows the children of the command: their work is in the run', async () => {
    const m = mutex(1, 20000).join(' ');
    const out = file('children.json');
    const r = await record(out, ['/bin/sh', '-c', `${m} & ${m}; wait`], ['--repeat', '1', '--warmup', '0', '--signals', 'sched']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const truth = [...String(r.stderr).matchAll(/truth oncpu_ns=(\d+)/g)].reduce((s, x) => s + Number(x[1]), 0);
    const run = load(out).runs[0]!;
    console.log(`children: cpu ${run.metrics.cpu_ns} vs ${truth} reported by the two children`);
    expect(run.details['sched.processes']).toBeGreaterThanOrEqual(3); // the shell and its two children
    expect(run.metrics.cpu_ns).toBeGreaterThan(0.95 * truth);
    expect(run.metrics.cpu_ns).toBeLessThan(1.05 * truth + 10e6);
  });

  it('keeps exit codes, fails on a failing workload, and compare refuses the profile', async () => {
    const out = file('fail.json');
    const r = await record(out, ['/bin/sh', '-c', 'exit 3'], ['--repeat', '3', '--warmup', '0', '--signals', 'psi', '--json']);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/run 1 of `\/bin\/sh -c exit 3` exited with code 3/);
    const p = load(out);
    expect(p.ok).toBe(false);
    expect(p.runs.map((x) => x.exit_code)).toEqual([3]); // stops at the first failure
    expect(JSON.parse(String(r.stdout)).runs).toHaveLength(1);

    const all = await record(out, ['/bin/sh', '-c', 'exit 3'], ['--repeat', '2', '--warmup', '0', '--signals', 'psi', '--keep-going']);
    expect(all.exitCode).toBe(1);
    expect(load(out).runs.map((x) => x.exit_code)).toEqual([3, 3]);

    const c = await tuner(['compare', out, out]);
    expect(c.exitCode).toBe(2);
    expect(String(c.stderr)).toMatch(/run 1 of the workload exited with code 3; a failed recording cannot be compared/);
  });

  it('reads long runs as they go (every 50 ms here) without changing the totals', async () => {
    const probes = new RecordProbes(['sched', 'futex']);
    const truthFile = file('poll-truth.txt');
    try {
      for (let run = 1; run <= 2; run++) {
        // The shell sends the workload's truth line to a file; the shell is part of the measured tree.
        const r = await measureRun(['/bin/sh', '-c', `${mutex(3).join(' ')} > ${truthFile}`], run, {
          probes,
          output: 'ignore',
          pollMs: 50,
        });
        const m = /truth oncpu_ns=(\d+) run_delay_ns=(\d+)/.exec(readFileSync(truthFile, 'utf8'))!;
        const [oncpu, delay] = [Number(m[1]), Number(m[2])];
        console.log(`polled run ${run}: cpu ${r.metrics.cpu_ns} vs ${oncpu}, runq wait ${r.metrics['sched.runq_wait_ns']} vs ${delay}`);
        expect(r.exit_code).toBe(0);
        expect(Math.abs(r.metrics.cpu_ns! - oncpu)).toBeLessThan(0.05 * oncpu + 5e6);
        expect(Math.abs(r.metrics['sched.runq_wait_ns']! - delay)).toBeLessThan(0.05 * delay + 5e6);
        expect(r.metrics['futex.waits']).toBeGreaterThan(0);
      }
    } finally {
      probes.close();
    }
  });

  it('kills a run that outlives --timeout and counts it as failed', async () => {
    const out = file('timeout.json');
    const r = await record(out, ['sleep', '5'], ['--repeat', '1', '--warmup', '0', '--signals', 'psi', '--timeout', '300ms']);
    expect(r.exitCode).toBe(1);
    const run = load(out).runs[0]!;
    expect(run.timed_out).toBe(true);
    expect(run.signal).toBe('SIGKILL');
    expect(run.metrics.wall_ns).toBeLessThan(3e9);
  });

  it('refuses a command that does not exist and a signal that is not available, before running anything', async () => {
    const a = await record(file('x.json'), ['no-such-command-xyz']);
    expect(a.exitCode).toBe(2);
    expect(String(a.stderr)).toMatch(/command "no-such-command-xyz" not found in PATH/);
    const b = await record(file('x.json'), ['true'], ['--signals', 'sched,bogus']);
    expect(b.exitCode).toBe(2);
    expect(String(b.stderr)).toMatch(/--signals: "bogus" is not a signal tuner knows/);
    expect(existsSync(file('x.json'))).toBe(false);
  });

  it('Ctrl-C stops the workload, writes nothing and leaves no pins', async () => {
    const out = file('interrupted.json');
    const proc = execa('node', [CLI, 'record', '-o', out, '--warmup', '0', '--signals', 'sched', '--', 'sleep', '30'], { reject: false });
    // Wait until the workload itself (sleep, exec'ed by the gate) runs as tuner's child.
    const deadline = Date.now() + 20_000;
    let sleeper: number | undefined;
    while (sleeper === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      sleeper = childrenOf(proc.pid!).find((pid) => comm(pid) === 'sleep');
    }
    expect(sleeper).toBeDefined();
    proc.kill('SIGINT');
    const r = await proc;
    expect(r.exitCode).toBe(130);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`/proc/${sleeper}`) && comm(sleeper!) === 'sleep').toBe(false);
  });
});

describe.skipIf(skipKernel)('tuner compare on real recordings', () => {
  it('flags the injected regression (6 threads on one lock instead of 2) on wait metrics; wall time only on its own evidence', async () => {
    const base = file('two.json');
    const next = file('six.json');
    for (const [out, threads] of [
      [base, 2],
      [next, 6],
    ] as const) {
      const r = await record(out, mutexOn2(threads), ['--repeat', '6', '--quiet']);
      expect(r.exitCode, String(r.stderr)).toBe(0);
    }
    const c = await tuner(['compare', base, next, '--json']);
    expect(c.exitCode, String(c.stderr)).toBe(1);
    const res = JSON.parse(String(c.stdout));
    type Row = {
      metric: string;
      verdict: string;
      ratio: number;
      p_regressed_adjusted: number;
      ci: { ratio: { low: number; high: number } };
    };
    const row = (m: string): Row => res.metrics.find((x: Row) => x.metric === m);
    const verdict = (m: string): string => row(m).verdict;
    const wall = row('wall_ns');
    console.log('regressed:', res.regressed.join(', '), '| wall:', wall.verdict, wall.ci.ratio, '| cpu:', verdict('cpu_ns'));
    expect(res.regressed).toContain('sched.runq_wait_ns');
    // What 6 threads do to wall time depends on the host (here it often falls; on another host it
    // rose beyond the threshold): the gate may call it regressed only with a median change beyond
    // the threshold that is significant, and never when the interval of the change lies within it.
    if (wall.verdict === 'regressed') {
      expect(wall.ratio).toBeGreaterThan(1 + res.threshold);
      expect(wall.p_regressed_adjusted).toBeLessThan(res.alpha);
    }
    if (wall.ci.ratio.high <= 1 + res.threshold) expect(wall.verdict).not.toBe('regressed');
    expect(res.exit_code).toBe(1);

    // The same comparison as markdown and JUnit: same outcome, same exit status.
    const md = await tuner(['compare', base, next, '--format', 'markdown']);
    expect(md.exitCode).toBe(1);
    expect(String(md.stdout)).toMatch(/\| 🔴 \| `sched.runq_wait_ns` \|.*\*\*regressed\*\*/);
    const junit = await tuner(['compare', base, next, '--format', 'junit']);
    expect(junit.exitCode).toBe(1);
    expect(String(junit.stdout)).toMatch(
      /<testcase classname="tuner.sched" name="sched.runq_wait_ns" time="0">\s*<failure type="regressed"/,
    );
  });

  it('does not flag the same workload recorded twice (with --alternate, as docs/ci-example.md advises)', async () => {
    // One recording, BASE and NEW run by run in ABBA pairs: a host that drifts or has a slow spell
    // (a shared CI runner does) slows both sides alike. Blocks of runs recorded by separate
    // commands put a whole slow spell on one side, and the gate then rightly sees a change.
    // The gate fails identical runs in about 1 comparison in 100 here (it promises at most 1 in 20): a failed
    // comparison is recorded once more, and the test fails on two in a row (1 in 400 even at the promised rate).
    const once = async (attempt: number) => {
      const a = file(`same-a-${attempt}.json`);
      const b = file(`same-b-${attempt}.json`);
      const r = await record(a, [...mutex(2), '::', ...mutex(2)], ['--alternate', b, '--repeat', '6', '--warmup', '1', '--quiet']);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(load(a).runs).toHaveLength(6);
      expect(load(b).runs).toHaveLength(6);
      const c = await tuner(['compare', a, b, '--json']);
      const res = JSON.parse(String(c.stdout));
      type Row = {
        metric: string;
        verdict: string;
        ratio: number | null;
        ci: { ratio: { low: number | null; high: number | null } } | null;
      };
      const f = (x: number | null): string => (x === null ? '-' : x.toFixed(3));
      console.log(
        'same workload twice:',
        res.metrics
          .map((m: Row) => `${m.metric} ${m.verdict} x${f(m.ratio)} (${f(m.ci?.ratio.low ?? null)}..${f(m.ci?.ratio.high ?? null)})`)
          .join(', '),
      );
      const walls = (p: Profile): string =>
        p.runs.map((x) => `${x.started.slice(11, 23)} ${(x.metrics.wall_ns! / 1e6).toFixed(1)}`).join(', ');
      console.log(`wall ms, BASE: ${walls(load(a))}; NEW: ${walls(load(b))}`);
      return { res, exitCode: c.exitCode };
    };
    let { res, exitCode } = await once(1);
    if (exitCode !== 0) ({ res, exitCode } = await once(2));
    expect(res.alternated).toBe(true);
    expect(res.regressed).toEqual([]);
    expect(exitCode).toBe(0);
  });

  it('fails the gate in 200 comparisons of identical configurations drawn from real runs no more often than 1 in 20 explains', async () => {
    // The gate's promise: when nothing changed, at most one comparison in 20 fails. A count of 20 is a
    // sample, not that rate: 31 pools of this workload failed at 0 to 3.5% of 200 comparisons each (a
    // bimodal CPU time makes some pools worse), and at 3.5% a count of 20 is 2 or more once in 7. So 200
    // comparisons, and the count must be one a rate of 1 in 20 explains: at most 20 (a rate of 5% gives
    // more than 20 of 200 once in 900; a rate of 20% gives 20 or fewer once in 9,000).
    const pool = file('pool.json');
    const r = await record(pool, mutex(2, 20000), ['--repeat', '24', '--quiet']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const p = load(pool);
    console.log(`24 runs of a 0.1 s workload recorded in ${((Date.parse(p.finished) - Date.parse(p.started)) / 1000).toFixed(1)} s`);
    const random = seededRandom(20);
    const comparisons = 200;
    let flagged = 0;
    const regressed = new Map<string, number>();
    const write = (name: string, runs: Profile['runs']): string => {
      const f = file(name);
      writeFileSync(f, JSON.stringify({ ...p, repeat: runs.length, runs }));
      return f;
    };
    for (let k = 0; k < comparisons; k++) {
      // Two disjoint sets of 6 runs, drawn at random from the 24.
      const order = p.runs
        .map((run) => ({ run, key: random() }))
        .sort((x, y) => x.key - y.key)
        .map((x) => x.run);
      const res = await compare({
        base: write('pool-a.json', order.slice(0, 6)),
        new: write('pool-b.json', order.slice(6, 12)),
        threshold: 0.1,
        alpha: 0.05,
      });
      for (const m of res.regressed) regressed.set(m, (regressed.get(m) ?? 0) + 1);
      if (res.exit_code !== 0) flagged++;
    }
    const counts = [...regressed].map(([m, n]) => `${m} ${n}`);
    console.log(`${comparisons} comparisons of identical configurations (6 v 6 real runs): ${flagged} failed the gate`, counts.join(', '));
    expect(flagged).toBeLessThanOrEqual(20);
  }, 240_000);
});

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    /* gone */
  }
  return out;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
