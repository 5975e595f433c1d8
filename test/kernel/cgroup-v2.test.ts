/**
 * The actions on a pure cgroup v2 host (the VM kernel matrix boots one; a hybrid host skips this
 * file, and TUNER_REQUIRE_CGROUP_V2=1 turns that skip into a failure): cpu_weight on cpu.weight
 * (the noisy-neighbor effect), kill -9 then `tuner revert`, pressure_backoff on cpu.max,
 * cpuset_spread widening cpuset.cpus, and a process's cgroup label in records, also where the cpu
 * controller is not enabled (cpu_weight then says it cannot act, and acts on no ancestor).
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectLayout } from '../../src/cgroup/layout.js';
import { leftoverCgroups, makeCgroup, type TestCgroup, type TestCgroupTree } from '../helpers/cgroups.js';
import { waitingOutsider } from '../helpers/outsider.js';
import { tuner } from '../helpers/cli.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';
import { procTruth } from '../helpers/procfs.js';
import { journalDir, startTuner, stopTuners, until } from '../helpers/tuner-run.js';
import { start, type Running } from '../helpers/workloads.js';
import { onlineCpus, pickCpus } from '../helpers/cpus.js';

const ROOT = '/sys/fs/cgroup';
const recipe = (n: string) => new URL(`../../recipes/${n}.yaml`, import.meta.url).pathname;
const pureV2 = !skipKernel && detectLayout().mode === 'v2';
if (process.env.TUNER_REQUIRE_CGROUP_V2 === '1' && !pureV2) {
  throw new Error(`TUNER_REQUIRE_CGROUP_V2=1 but this host is not pure cgroup v2 (layout: ${detectLayout().mode})`);
}

const running: Running[] = [];
const cgroups: TestCgroupTree[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  // A test that failed half-way leaves its tuner running: end it (it reverts and unpins) before looking for leftovers.
  await stopTuners();
  for (const r of running.splice(0)) await r.stop();
  for (const c of cgroups.splice(0)) c.remove();
  for (const c of cleanups.splice(0)) c();
  expect(leftoverPins()).toEqual([]);
  expect(leftoverCgroups([ROOT])).toEqual([]);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rel = (cg: TestCgroup) => cg.path.slice(ROOT.length);
/** One CPU the test picks, for workloads that must queue behind each other. */
const ONE_CPU = pickCpus(1);

function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tuner-v2-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A parent test cgroup with the given controllers enabled for its children. */
function parentCgroup(controllers: string[]): TestCgroupTree {
  const cg = makeCgroup(ROOT);
  cgroups.push(cg);
  if (controllers.length) cg.write('cgroup.subtree_control', controllers.map((c) => `+${c}`).join(' '));
  return cg;
}

/** The noisy-neighbor scene on v2: a hog with cpu.weight 10000 (100 times the default) running three burners, a victim wanting 40% of a CPU. */
async function noisyNeighbor() {
  const parent = parentCgroup(['cpu']);
  const hog = parent.child('hog');
  const victim = parent.child('victim');
  hog.write('cpu.weight', '10000');
  const burn = await start('spin', [3, 0]);
  const duty = await start('duty', [40, 10, 0]);
  running.push(burn, duty);
  hog.add(burn.pid);
  victim.add(duty.pid);
  const journal = journalDir();
  cleanups.push(() => journal.remove());
  return { parent, hog, victim, duty, journal, env: { TUNER_JOURNAL_DIR: journal.dir } };
}

describe.skipIf(!pureV2)('cgroup v2', () => {
  it("cpu_weight on cpu.weight raises the starved victim's progress several-fold, then puts cpu.weight back", async () => {
    const { parent, hog, victim, duty, journal, env } = await noisyNeighbor();
    // Windows of the same length without the tuner and from its first nudge on (under emulation the
    // tuner's start alone can take several seconds).
    const WINDOW_MS = 10_000;
    await sleep(1000);
    const a0 = procTruth(duty.pid).oncpuNs;
    await sleep(WINDOW_MS);
    const without = procTruth(duty.pid).oncpuNs - a0;
    const run = startTuner(['run', recipe('noisy-neighbor'), '--apply', '--watch', '--cgroup', parent.path], env);
    const first = await run.waitFor((e) => e.type === 'decision' && e.kind === 'step', 60_000);
    const t0 = procTruth(duty.pid).oncpuNs;
    const t0At = Date.now();
    expect(first).toMatchObject({
      action: 'cpu_weight',
      target: rel(hog),
      knob: path.join(hog.path, 'cpu.weight'),
      old: '10000',
      new: '2500',
      applied: true,
    });
    expect(first.evidence.starved).toMatchObject({ entity: rel(victim), active: true });
    expect(Number(hog.read('cpu.weight'))).toBeLessThan(10000);
    expect(journal.files()).toHaveLength(1);
    await sleep(Math.max(0, t0At + WINDOW_MS - Date.now()));
    const withTuner = procTruth(duty.pid).oncpuNs - t0;
    run.proc.kill('SIGTERM');
    const r = await run.proc;
    expect(r.exitCode, run.stderr()).toBe(0);
    const steps = run.events.filter((e) => e.type === 'decision' && e.kind === 'step');
    console.log(
      `cgroup v2 noisy-neighbor: victim CPU over ${WINDOW_MS / 1000} s: without tuner ${(without / 1e6).toFixed(0)} ms, with tuner ${(withTuner / 1e6).toFixed(0)} ms, ` +
        `ratio ${(withTuner / without).toFixed(1)}; cpu.weight steps ${steps.map((e) => `${e.old}->${e.new}`).join(', ')}`,
    );
    expect(withTuner / without).toBeGreaterThan(3);
    expect(hog.read('cpu.weight')).toBe('10000');
    expect(journal.files()).toEqual([]);
  });

  it('kill -9 mid-nudge, then `tuner revert` puts cpu.weight back and clears journal and pins', async () => {
    const { parent, hog, journal, env } = await noisyNeighbor();
    const run = startTuner(['run', recipe('noisy-neighbor'), '--apply', '--watch', '--cgroup', parent.path], {
      ...env,
      TUNER_TEST_NUDGE_PAUSE_MS: '3000',
    });
    await until(() => hog.read('cpu.weight') === '2500', 60_000, 'the first nudge');
    run.proc.kill('SIGKILL');
    await run.proc.catch(() => undefined);
    expect(journal.files()).toHaveLength(1);
    const r = await tuner(['revert', '--json'], { env });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = JSON.parse(String(r.stdout));
    expect(out.journals[0]).toMatchObject({
      removed: true,
      outcomes: [expect.objectContaining({ knob: path.join(hog.path, 'cpu.weight'), original: '10000', result: 'restored' })],
    });
    expect(hog.read('cpu.weight')).toBe('10000');
    expect(journal.files()).toEqual([]);
    expect(leftoverPins()).toEqual([]);
  });

  it('pressure_backoff steps cpu.max down under CPU pressure and restores it', async () => {
    const cg = parentCgroup([]);
    // More spinning threads than the host has CPUs: CPU pressure on a host of any size.
    const spin = await start('spin', [onlineCpus() + 2, 0]);
    running.push(spin);
    cg.add(spin.pid);
    // The recipe backs off only while tasks outside the scope wait for a CPU: one in a cgroup of weight 25.
    const other = await waitingOutsider(ROOT);
    cgroups.push(other.cg);
    running.push(other.spin);
    const before = cg.read('cpu.max');
    expect(before).toBe('max 100000');
    const journal = journalDir();
    cleanups.push(() => journal.remove());
    const run = startTuner(['run', recipe('psi-backoff'), '--apply', '--watch', '--cgroup', cg.path], { TUNER_JOURNAL_DIR: journal.dir });
    const step = await run.waitFor((e) => e.type === 'decision' && e.kind === 'step', 60_000);
    expect(step).toMatchObject({ action: 'pressure_backoff', knob: path.join(cg.path, 'cpu.max'), old: 'max 100000', applied: true });
    const [quota, period] = cg.read('cpu.max').split(' ').map(Number);
    console.log(`cgroup v2 pressure_backoff: cpu.max ${step.old} -> ${step.new}: ${step.reason.split(' because ')[0]}`);
    expect(period).toBe(100000);
    expect(quota).toBeGreaterThanOrEqual(50_000); // min_cpus 0.5
    expect(quota).toBeLessThan(onlineCpus() * 100_000); // below the CPUs it could use
    // Sized from what the cgroup used in the window (the sched signal on cgroup v2), as on the v1 host.
    const used = Number(/unlimited \(using ([\d.]+) CPUs\)/.exec(step.reason)?.[1]);
    expect(used).toBeGreaterThan(0.5);
    expect(used).toBeLessThanOrEqual(onlineCpus() + 0.05);
    expect(Math.abs(quota - 0.8 * used * 100_000)).toBeLessThanOrEqual(1000); // the factor times the use (2 decimals)
    run.proc.kill('SIGTERM');
    const r = await run.proc;
    expect(r.exitCode, run.stderr()).toBe(0);
    expect(cg.read('cpu.max')).toBe(before);
    expect(journal.files()).toEqual([]);
  });

  it("cpuset_spread widens a queued cgroup's cpuset.cpus by one CPU, and puts it back", async () => {
    const cg = parentCgroup([]);
    cg.write('cpuset.cpus', '0');
    const spin = await start('spin', [2, 0]);
    running.push(spin);
    cg.add(spin.pid);
    const dir = tmp();
    const copy = path.join(dir, 'widen.yaml');
    writeFileSync(
      copy,
      [
        'name: widen-queued',
        'description: Widen the cpuset of a cgroup whose threads queue for a CPU.',
        'interval: 1s',
        'detectors:',
        '  queued: { description: threads waiting for a CPU, signal: sched.cgroups.wait_share, above: 0.3, clear: 0.1, for: 2 }',
        'actions:',
        '  - { action: cpuset_spread, target: scope, mode: widen, step_cpus: 1, bounds: { max_cpus: 2 } }',
        'guards: { cooldown: 2s, max_changes_per_hour: 10, revert_on_exit: true }',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const journal = journalDir();
    cleanups.push(() => journal.remove());
    const run = startTuner(['run', copy, '--apply', '--cgroup', cg.path, '--duration', '12s'], { TUNER_JOURNAL_DIR: journal.dir });
    const step = await run.waitFor((e) => e.type === 'decision' && e.kind === 'step', 30_000);
    console.log(
      `cpuset_spread: first event ${(run.events[0]!.at - run.started) / 1000} s (${String(run.events[0]!.type)}), step ${(step.at - run.started) / 1000} s after start`,
    );
    expect(step).toMatchObject({ action: 'cpuset_spread', knob: path.join(cg.path, 'cpuset.cpus'), old: '0', new: '0-1', applied: true });
    expect(cg.read('cpuset.cpus')).toBe('0-1');
    expect(cg.read('cpuset.cpus.effective')).toBe('0-1');
    const r = await run.proc;
    expect(r.exitCode, run.stderr()).toBe(0);
    expect(cg.read('cpuset.cpus')).toBe('0');
    expect(journal.files()).toEqual([]);
  });

  it('records label a process with its unified cgroup path, also where the cpu controller is not enabled; cpu_weight refuses to act there', async () => {
    // parent enables cpu for its children; "nocpu" does not, so its children have no cpu.weight.
    const parent = parentCgroup(['cpu']);
    const nocpu = parent.child('nocpu');
    const leaf = nocpu.child('leaf');
    const other = nocpu.child('other');
    // Both on one CPU: the duty-cycle process queues behind the spinners on a host of any size.
    const spin = await start('spin', [3, 0], { cpus: ONE_CPU });
    const duty = await start('duty', [40, 10, 0], { cpus: ONE_CPU });
    running.push(spin, duty);
    leaf.add(spin.pid);
    other.add(duty.pid);
    expect(readFileSync(`/proc/${spin.pid}/cgroup`, 'utf8').trim()).toBe(`0::${rel(leaf)}`);
    const w = await tuner(['watch', 'sched', '--json', '--count', '1', '--interval', '1s', '--cgroup', nocpu.path]);
    expect(w.exitCode, String(w.stderr)).toBe(0);
    const rec = JSON.parse(String(w.stdout).trim().split('\n').at(-1)!);
    expect(rec.procs.find((p: { pid: number }) => p.pid === spin.pid)?.cgroup).toBe(rel(leaf));
    expect(rec.procs.find((p: { pid: number }) => p.pid === duty.pid)?.cgroup).toBe(rel(other));
    const parentWeight = nocpu.read('cpu.weight');
    const journal = journalDir();
    cleanups.push(() => journal.remove());
    const r = await tuner(['run', recipe('noisy-neighbor'), '--apply', '--cgroup', nocpu.path, '--duration', '8s', '--json'], {
      env: { TUNER_JOURNAL_DIR: journal.dir },
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = String(r.stdout);
    console.log(
      `cgroup v2 without the cpu controller: ${out
        .split('\n')
        .filter((l) => /controller/.test(l))
        .slice(0, 1)
        .join('')}`,
    );
    expect(out).toContain(`the cpu controller is not enabled for ${rel(leaf)}`);
    expect(out).not.toMatch(/"applied":true/);
    expect(nocpu.read('cpu.weight')).toBe(parentWeight);
    expect(journal.files()).toEqual([]);
  });
});
