/**
 * The real effect of recipes/noisy-neighbor.yaml on this machine: two cgroups
 * under one parent, a "hog" whose cpu.shares is misconfigured high running
 * CPU burners and a "victim" that needs about 40 % of a CPU. The victim's
 * progress (its CPU time, from /proc/PID/schedstat) over the same window,
 * without and with `tuner run --apply`, must differ several-fold; every knob
 * must be back after the tuner exits, and nothing may be left behind.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tuner } from '../helpers/cli.js';
import { skipKernel } from '../helpers/kernel.js';
import { cleanup, CPU, noisyNeighbor, RECIPE } from '../helpers/noisy-neighbor.js';
import { procTruth } from '../helpers/procfs.js';
import { startTuner } from '../helpers/tuner-run.js';

const WINDOW_MS = 12_000;

afterEach(cleanup);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipKernel)('noisy-neighbor on this machine', () => {
  it("raises the starved victim's progress several-fold, then puts every knob back", async () => {
    const { parent, hog, victim, duty, journal } = await noisyNeighbor();
    const before = {
      hog: hog.read('cpu.shares'),
      victim: victim.read('cpu.shares'),
      parent: parent.read('cpu.shares'),
      quota: hog.read('cpu.cfs_quota_us'),
    };
    await sleep(1000); // let the workloads settle

    // Without the tuner.
    const a0 = procTruth(duty.pid).oncpuNs;
    await sleep(WINDOW_MS);
    const without = procTruth(duty.pid).oncpuNs - a0;

    // With the tuner, over a window of the same length from its start.
    const audit = path.join(journal.dir, '..', 'audit.ndjson');
    const t0 = procTruth(duty.pid).oncpuNs;
    const run = startTuner(
      ['run', RECIPE, '--apply', '--cgroup', parent.path, '--duration', `${WINDOW_MS / 1000 + 2}s`, '--audit-log', audit],
      { TUNER_JOURNAL_DIR: journal.dir },
    );
    const first = await run.waitFor((e) => e.type === 'decision' && e.kind === 'step', WINDOW_MS);
    const lowered = Number(hog.read('cpu.shares'));
    expect(lowered).toBeLessThan(262144);
    // The original is journaled while the change is in force.
    expect(journal.files()).toHaveLength(1);
    const entry = JSON.parse(readFileSync(path.join(journal.dir, journal.files()[0]!), 'utf8')).entries[0];
    expect(entry).toMatchObject({ original: '262144', knob: { kind: 'file', path: path.join(hog.path, 'cpu.shares') } });
    await sleep(Math.max(0, run.started + WINDOW_MS - Date.now()));
    const withTuner = procTruth(duty.pid).oncpuNs - t0;
    const r = await run.proc;
    expect(r.exitCode, run.stderr()).toBe(0);

    const ratio = withTuner / without;
    const firstNudgeMs = first.at - run.started;
    const summary = run.events.at(-1)!;
    const steps = run.events.filter((e) => e.type === 'decision' && e.kind === 'step');
    console.log(
      `noisy-neighbor effect: victim CPU over ${WINDOW_MS / 1000} s: without tuner ${(without / 1e6).toFixed(0)} ms, with tuner ${(withTuner / 1e6).toFixed(0)} ms, ratio ${ratio.toFixed(1)}; ` +
        `first nudge ${(firstNudgeMs / 1000).toFixed(2)} s after start (summary: ${summary.first_change_ms} ms); steps: ${steps.map((e) => `${e.old}->${e.new}`).join(', ')}`,
    );
    expect(ratio).toBeGreaterThan(3);
    expect(first).toMatchObject({
      recipe: 'noisy-neighbor',
      action: 'cpu_weight',
      target: hog.path.replace(CPU, ''),
      applied: true,
      reverted: false,
    });
    expect(first.evidence.starved).toMatchObject({ entity: victim.path.replace(CPU, ''), active: true });

    // Every knob back; nothing journaled; every decision in the audit log with the documented fields.
    expect({
      hog: hog.read('cpu.shares'),
      victim: victim.read('cpu.shares'),
      parent: parent.read('cpu.shares'),
      quota: hog.read('cpu.cfs_quota_us'),
    }).toEqual(before);
    expect(journal.files()).toEqual([]);
    expect(summary).toMatchObject({
      type: 'summary',
      mode: 'apply',
      recipes: [{ recipe: 'noisy-neighbor', reverted: [{ knob: path.join(hog.path, 'cpu.shares'), to: '262144', result: 'restored' }] }],
    });
    const log = readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log.length).toBe(run.events.filter((e) => e.type === 'decision').length);
    for (const rec of log)
      for (const k of ['ts', 'recipe', 'detector', 'evidence', 'action', 'target', 'knob', 'old', 'new', 'applied', 'reverted'])
        expect(rec).toHaveProperty(k);
    expect(log.at(-1)).toMatchObject({ kind: 'revert', new: '262144', applied: true, reverted: true });
  });

  it('with --strategy learned: the victim gains several-fold, every change explained, the model saved root-only, every knob back', async () => {
    const { parent, hog, duty, journal } = await noisyNeighbor();
    const learned = path.join(journal.dir, '..', 'learned.json');
    await sleep(1000);
    const a0 = procTruth(duty.pid).oncpuNs;
    await sleep(WINDOW_MS);
    const without = procTruth(duty.pid).oncpuNs - a0;
    const t0 = procTruth(duty.pid).oncpuNs;
    const run = startTuner(
      ['run', RECIPE, '--apply', '--cgroup', parent.path, '--duration', `${WINDOW_MS / 1000 + 2}s`, '--strategy', 'learned', '--seed', '7'],
      { TUNER_JOURNAL_DIR: journal.dir, TUNER_LEARNED_FILE: learned },
    );
    await run.waitFor((e) => e.type === 'decision' && e.kind === 'step', WINDOW_MS);
    await sleep(Math.max(0, run.started + WINDOW_MS - Date.now()));
    const withTuner = procTruth(duty.pid).oncpuNs - t0;
    const r = await run.proc;
    expect(r.exitCode, run.stderr()).toBe(0);
    const changes = run.events.filter((e) => e.type === 'decision' && e.kind !== 'revert');
    console.log(
      `noisy-neighbor learned: victim CPU ${(without / 1e6).toFixed(0)} ms -> ${(withTuner / 1e6).toFixed(0)} ms; changes: ${changes.map((e) => `${e.old}->${e.new} [${e.strategy?.mode}]`).join(', ')}`,
    );
    expect(withTuner / without).toBeGreaterThan(2);
    expect(run.events.find((e) => e.type === 'notice' && /seed 7/.test(e.message))).toBeDefined();
    for (const e of changes)
      expect(e.strategy).toMatchObject({ strategy: 'learned', mode: expect.any(String), text: expect.stringMatching(/^learned: /) });
    expect(run.events.some((e) => e.type === 'notice' && /^learned: \d+ windows at the target/.test(e.message))).toBe(true);
    const st = statSync(learned);
    expect({ uid: st.uid, mode: st.mode & 0o777 }).toEqual({ uid: 0, mode: 0o600 });
    expect(Object.keys(JSON.parse(readFileSync(learned, 'utf8')).entries)).toEqual([
      expect.stringMatching(new RegExp(`/noisy-neighbor/0/${hog.path.replace(CPU, '')}$`)),
    ]);
    expect(hog.read('cpu.shares')).toBe('262144');
    expect(journal.files()).toEqual([]);
  });

  it('a bad recipe with --apply exits 2 and changes nothing', async () => {
    const { parent, hog, journal } = await noisyNeighbor();
    const bad = path.join(journal.dir, '..', 'bad.yaml');
    writeFileSync(bad, readFileSync(RECIPE, 'utf8').replace('  cooldown: 1s', '  cooldwn: 1s'), { mode: 0o600 });
    const r = await tuner(['run', bad, '--apply', '--cgroup', parent.path, '--duration', '3s'], {
      env: { TUNER_JOURNAL_DIR: journal.dir },
    });
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(
      /line \d+: guards\.cooldwn: expected one of the keys cooldown, .* \(did you mean "cooldown"\?\), got the unknown key "cooldwn"/,
    );
    expect(String(r.stderr)).not.toMatch(/^\s+at /m);
    expect(hog.read('cpu.shares')).toBe('262144');
    expect(journal.files()).toEqual([]);
  });

  it('audit mode (no --apply) prints the nudges it would make and writes nothing', async () => {
    const { parent, hog, journal } = await noisyNeighbor();
    const r = await tuner(['run', RECIPE, '--cgroup', parent.path, '--duration', '5s', '--json'], {
      env: { TUNER_JOURNAL_DIR: journal.dir },
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const events = String(r.stdout)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const steps = events.filter((e) => e.type === 'decision' && e.kind === 'step');
    expect(steps.length).toBeGreaterThan(0);
    expect(steps[0]).toMatchObject({ old: '262144', new: '25600', applied: false });
    expect(hog.read('cpu.shares')).toBe('262144');
    expect(journal.files()).toEqual([]);
  });
});
