import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { DecisionEvent, RunEvent } from '../../src/engine/events.js';
import { addSample, choose, phi, type Arms } from '../../src/strategy/arms.js';
import type { LearnedStrategy } from '../../src/strategy/learned.js';
import { LearnedStore } from '../../src/strategy/store.js';
import type { SignalRecords } from '../../src/detect/samples.js';
import { Engine } from '../../src/engine/engine.js';
import { makeStrategy } from '../../src/engine/setup.js';
import { SimHost } from '../../src/host/host.js';
import { SimIo } from '../../src/knobs/sim-io.js';
import { ScopeGuard } from '../../src/scope/guard.js';
import { HOG, hogKnob, levelOf, recordedLevels, recordedResponse, runScene, sceneRecipe, unimodal, type Response } from './scene.js';

const decisions = (evs: RunEvent[]): DecisionEvent[] => evs.filter((e): e is DecisionEvent => e.type === 'decision' && e.kind !== 'revert');
const notices = (evs: RunEvent[]): string[] => evs.filter((e) => e.type === 'notice').map((e) => (e as { message: string }).message);

/** The longest run of consecutive true values. */
const longestRun = (xs: readonly boolean[]): number =>
  xs.reduce((acc, x) => ({ cur: x ? acc.cur + 1 : 0, max: Math.max(acc.max, x ? acc.cur + 1 : 0) }), { cur: 0, max: 0 }).max;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), 'tuner-learned-'));
  dirs.push(d);
  return d;
};

describe('heuristic with an objective', () => {
  // Lower weight keeps lowering the victim's wait, past the detector's clear threshold (0.2), down to 0.05 at level 4.
  const falling: Response = { wait: (l) => Math.max(0.05, 0.6 - 0.15 * l), hogShare: () => 0.9, sd: 0 };

  it('stops at the clear threshold without an objective, keeps stepping while the objective improves with one', async () => {
    const without = await runScene({ recipe: sceneRecipe({ objective: false }), response: falling, windows: 20, seed: 1 });
    const withObjective = await runScene({ recipe: sceneRecipe(), response: falling, windows: 20, seed: 1 });
    // Without: wait 0.6, 0.45 (still > 0.4), 0.3 (between clear and trigger: still active), 0.15 (cleared): stops at level 3.
    expect(Math.max(...without.levels)).toBe(3);
    // With: 0.15 -> 0.05 is better by more than the noise (0.03): one more step; 0.05 -> 0.05 is flat: holds at 5.
    expect(Math.max(...withObjective.levels)).toBe(5);
    expect(withObjective.levels.at(-1)).toBe(5);
    const why = decisions(withObjective.events).map((d) => d.strategy?.mode);
    expect(why).toContain('objective');
    expect(notices(withObjective.events).some((m) => /objective flat after the last step/.test(m))).toBe(true);
  });

  it('steps back once a constraint is hit, retries that level once when it holds again, and never goes past it after a second hit', async () => {
    const r: Response = { ...falling, hogShare: (l) => 0.3 + 0.6 * Math.pow(0.5, l) }; // 0.9, 0.6, 0.45, 0.375, ...
    const run = await runScene({ recipe: sceneRecipe({ constraint: 0.42 }), response: r, windows: 25, seed: 1, constraint: 0.42 });
    expect(Math.max(...run.levels)).toBe(3);
    expect(run.levels.at(-1)).toBe(2);
    const modes = decisions(run.events).filter((d) => d.strategy?.mode === 'constraint');
    expect(modes.map((d) => d.kind)).toEqual(['relax', 'step', 'relax']);
    for (const d of modes.filter((x) => x.kind === 'relax')) expect(d.reason).toMatch(/machine_share 0\.375 < 0\.42/);
    expect(modes[2]!.reason).toMatch(/hit again at the level it retried/);
    // Level 3 was in force for two windows in all (the first hit and the retry), each ended after one window.
    expect(run.levels.filter((l) => l === 3)).toHaveLength(2);
    expect(longestRun(run.violated)).toBe(1);
  });

  it('a window of outside load that breaks a constraint does not stop the steps: they go on when it holds again', async () => {
    // The hog keeps 0.9 of the machine at every level (the steps never break the constraint), except in one window
    // where outside load takes it: in the first window after a step (looks like the step's doing: stepped back,
    // then retried), at a level that held it already (no step back at all), or at the original value.
    const undisturbed = await runScene({
      recipe: sceneRecipe({ constraint: 0.42 }),
      response: falling,
      windows: 25,
      seed: 1,
      constraint: 0.42,
    });
    expect(undisturbed.levels.at(-1)).toBe(5);
    for (const dip of [2, 3, 4, 5, 6, 8]) {
      const r: Response = { ...falling, outside: (i) => (i === dip ? 0.3 : undefined) };
      const run = await runScene({ recipe: sceneRecipe({ constraint: 0.42 }), response: r, windows: 25, seed: 1, constraint: 0.42 });
      const log = `outside load in window ${dip}: levels ${run.levels.join('')}\n${notices(run.events).join('\n')}`;
      expect(run.levels.at(-1), log).toBe(undisturbed.levels.at(-1));
      expect(longestRun(run.violated), log).toBe(1);
    }
    // At a level that held the constraint for a window already: no step back, and the log says why.
    const held = await runScene({
      recipe: sceneRecipe({ constraint: 0.42 }),
      response: { ...falling, outside: (i) => (i === 5 ? 0.3 : undefined) },
      windows: 25,
      seed: 1,
      constraint: 0.42,
    });
    expect(decisions(held.events).filter((d) => d.kind === 'relax')).toEqual([]);
    expect(notices(held.events).some((m) => /outside load, no step back/.test(m))).toBe(true);
  });

  it('the learner does not count a window of outside load against a level that held the constraint', async () => {
    const recipe = sceneRecipe({ constraint: 0.42, strategy: 'learned' });
    const r = (dip?: number): Response => ({ ...unimodal(3), hogShare: () => 0.9, outside: (i) => (i === dip ? 0.3 : undefined) });
    const calm = await runScene({ recipe, response: r(), windows: 40, seed: 3, constraint: 0.42 });
    // Window 5 is the learner's third window at level 2 (the rules stepped at window 1, the learner leapt on at
    // window 2: level 1 gained far beyond the noise in its first window; the cooldown is 1 s).
    const run = await runScene({ recipe, response: r(5), windows: 40, seed: 3, constraint: 0.42 });
    const log = `levels ${run.levels.join('')} (calm ${calm.levels.join('')})\n${notices(run.events).join('\n')}`;
    expect(run.violated.filter(Boolean), log).toHaveLength(1);
    expect(
      decisions(run.events).filter((d) => d.strategy?.mode === 'constraint'),
      log,
    ).toEqual([]);
    expect(
      notices(run.events).some((m) => /outside load, not counted against the level/.test(m)),
      log,
    ).toBe(true);
    expect(run.levels.at(-1), log).toBe(calm.levels.at(-1));
  });

  it("a constraint already violated before the first step is not the recipe's doing: no step back", async () => {
    const r: Response = { ...falling, hogShare: () => 0.3 }; // outside load: below the limit at every weight
    const heur = await runScene({ recipe: sceneRecipe({ constraint: 0.42 }), response: r, windows: 20, seed: 1, constraint: 0.42 });
    expect(decisions(heur.events).filter((d) => d.kind === 'relax')).toEqual([]);
    expect(Math.max(...heur.levels)).toBeGreaterThanOrEqual(3);
    const learned = await runScene({
      recipe: sceneRecipe({ constraint: 0.42, strategy: 'learned' }),
      response: r,
      windows: 20,
      seed: 1,
      constraint: 0.42,
    });
    expect(decisions(learned.events).filter((d) => d.strategy?.mode === 'constraint')).toEqual([]);
  });

  it('while the detectors hold, a worse reading does not stop the rules', async () => {
    const r: Response = { wait: (l) => [0.7, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 0.9][l] ?? 0.9, hogShare: () => 0.9, sd: 0 };
    const run = await runScene({ recipe: sceneRecipe(), response: r, windows: 20, seed: 1 });
    expect(decisions(run.events).every((d) => d.kind === 'step')).toBe(true);
    expect(run.levels.at(-1)).toBe(levelOf(10));
  });

  it('steps back when a step taken for the objective made it worse', async () => {
    // Level 2 clears the detector (0.15 < 0.2); level 3 is worse again (0.35, under the trigger).
    const r: Response = { wait: (l) => [0.7, 0.45, 0.15, 0.35, 0.35, 0.35][l] ?? 0.35, hogShare: () => 0.9, sd: 0 };
    const run = await runScene({ recipe: sceneRecipe(), response: r, windows: 20, seed: 1 });
    expect(run.levels.at(-1)).toBe(2);
    expect(decisions(run.events).at(-1)).toMatchObject({ kind: 'relax', strategy: { mode: 'objective' } });
  });

  it('a step the objective asks for at the bound ends the pursuit: it does not stand in the way of a relax', async () => {
    // Level 2 (weight 250, the bound) clears the starved detector and still improves the objective (0.35 -> 0.1):
    // the step it asks for cannot happen. From window 9 the hog's load is over (not dominant: its relax_when).
    // Before, that step was asked for again every window, and the relax never came.
    const r: Response = {
      wait: (l) => [0.6, 0.35, 0.1][l] ?? 0.1,
      hogShare: () => 0.9,
      sd: 0,
      outside: (i) => (i >= 9 ? 0.02 : undefined),
    };
    const recipe = sceneRecipe({ min: 250, relax: 'step', relaxWhen: '{ not: dominant }' });
    const run = await runScene({ recipe, response: r, windows: 14, seed: 1 });
    expect(run.levels.slice(0, 8)).toEqual([0, 1, 2, 2, 2, 2, 2, 2]);
    expect(run.events.filter((e) => e.type === 'skip').map((e) => (e as { reason: string }).reason)).toEqual([
      '/p/hog weight 250 is at its lower bound (250)',
    ]);
    expect(notices(run.events)).toContain('heuristic: the step the objective asked for was not taken: holding here');
    const back = decisions(run.events).filter((d) => d.kind === 'relax');
    expect(back.map((d) => [d.old, d.new])).toEqual([
      ['250', '500'],
      ['500', '1000'],
    ]);
    expect(back[0]!.reason).toMatch(/cpu_share 0\.17 is clear/);
  });
});

describe('Thompson choice (arms)', () => {
  const arms = (xs: Array<[number, number[]]>): Arms => {
    const a: Arms = new Map();
    for (const [l, vs] of xs) for (const v of vs) addSample(a, l, v, false);
    return a;
  };
  const random = () => 0.5; // a draw of 0: the choice is the posterior mean's

  it.each([
    {
      name: 'a better neighbour: move to it (exploit)',
      arms: arms([
        [0, [-0.6, -0.6]],
        [1, [-0.4, -0.4]],
        [2, [-0.2, -0.2]],
      ]),
      current: 1,
      want: 2,
    },
    {
      name: 'the current level is best: stay',
      arms: arms([
        [0, [-0.6, -0.6]],
        [1, [-0.1, -0.1]],
        [2, [-0.4, -0.4]],
      ]),
      current: 1,
      want: 1,
    },
    {
      name: 'a gain smaller than the change cost: stay',
      arms: arms([
        [1, [-0.3, -0.3]],
        [2, [-0.29, -0.29]],
      ]),
      current: 1,
      want: 1,
    },
    {
      name: 'a blocked neighbour is never chosen',
      arms: arms([
        [0, [-0.6, -0.6]],
        [1, [-0.4, -0.4]],
        [2, [-0.2, -0.2]],
      ]),
      current: 1,
      want: 1,
      blocked: [2],
    },
    {
      name: 'never below level 0',
      arms: arms([
        [0, [-0.2, -0.2]],
        [1, [-0.4, -0.4]],
      ]),
      current: 0,
      want: 0,
    },
  ])('$name', ({ arms: a, current, want, blocked }) => {
    const c = choose(a, current, { noise: 0.03, changeCost: 0.015, random, blocked: new Set(blocked ?? []) });
    expect(c.level).toBe(want);
    expect(c.candidates.every((l) => l >= 0 && Math.abs(l - current) <= 1)).toBe(true);
    if (want !== current) expect(c).toMatchObject({ mode: 'exploit' });
    expect(c.confidence).toBeGreaterThanOrEqual(0);
    expect(c.confidence).toBeLessThanOrEqual(1);
  });

  it('phi is the normal CDF', () => {
    expect(phi(0)).toBeCloseTo(0.5, 6);
    expect(phi(1.96)).toBeCloseTo(0.975, 3);
    expect(phi(-1.96)).toBeCloseTo(0.025, 3);
  });

  it('property: candidates stay next to the current level and within one step of the best-known (or on the way to it)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 8 }), fc.double({ min: -1, max: 0, noNaN: true })), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer(),
        (samples, current, seed) => {
          const a: Arms = new Map();
          for (const [l, v] of samples) addSample(a, l, v, false);
          let s = seed >>> 0;
          const random = () => (s = (s * 1664525 + 1013904223) >>> 0) / 4294967296;
          const c = choose(a, current, { noise: 0.03, changeCost: 0.015, random, blocked: new Set() });
          expect(Math.abs(c.level - current)).toBeLessThanOrEqual(1);
          expect(c.level).toBeGreaterThanOrEqual(0);
          if (c.best !== undefined && c.level !== current) {
            expect(Math.abs(c.level - c.best) <= 1 || Math.sign(c.level - current) === Math.sign(c.best - current)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('LearnedStrategy in a closed loop', () => {
  it.each([
    { best: 2, seed: 1 },
    { best: 3, seed: 2 },
    { best: 4, seed: 3 },
    { best: 1, seed: 4 },
  ])('finds the best level ($best) within 30 windows and holds it (seed $seed)', async ({ best, seed }) => {
    const run = await runScene({ recipe: sceneRecipe({ strategy: 'learned' }), response: unimodal(best), windows: 60, seed });
    const s = (run.strategy as LearnedStrategy).stats;
    expect(s.convergedAfter, notices(run.events).join('\n')).toBeDefined();
    expect(s.convergedAfter!).toBeLessThanOrEqual(30);
    // The last 15 windows mostly at the best level.
    const tail = run.levels.slice(-15);
    expect(tail.filter((l) => l === best).length).toBeGreaterThanOrEqual(12);
    // Every learned change says why: mode, expected gain and confidence.
    for (const d of decisions(run.events).filter((x) => x.strategy?.strategy === 'learned' && x.strategy.mode !== 'fallback')) {
      expect(d.strategy).toMatchObject({ mode: expect.stringMatching(/explore|exploit|rollback|constraint/) });
      expect(d.reason).toMatch(/learned: /);
    }
  });

  it('rolls back a step whose first window is worse beyond the noise, at the first window the cooldown allows', async () => {
    // Level 2 is a cliff.
    const r: Response = { wait: (l) => [0.7, 0.3, 0.9, 0.9][l] ?? 0.9, hogShare: () => 0.9, sd: 0.005 };
    const run = await runScene({ recipe: sceneRecipe({ strategy: 'learned' }), response: r, windows: 30, seed: 5 });
    const ds = decisions(run.events);
    const rb = ds.filter((d) => d.strategy?.mode === 'rollback');
    expect(rb.length).toBeGreaterThan(0);
    // The window after any step into level 2 is followed by the rollback: level 2 never lasts more than one window.
    expect(longestRun(run.levels.map((l) => l === 2))).toBe(1);
    expect(run.levels.slice(-10).every((l) => l === 1)).toBe(true);
  });

  it("no rollback to the original value on one scattered window after the rules' first step (their baseline is one mean, with no spread)", async () => {
    // A scattered objective (sd 0.12, four times the recipe's noise), the first level barely better than the original.
    const r: Response = { wait: (l) => [0.6, 0.55, 0.4, 0.25][l] ?? 0.15, hogShare: () => 0.9, sd: 0.12 };
    for (let seed = 1; seed <= 12; seed++) {
      const run = await runScene({ recipe: sceneRecipe({ strategy: 'learned' }), response: r, windows: 40, seed });
      const log = `seed ${seed}: levels ${run.levels.join('')}\n${notices(run.events).join('\n')}`;
      expect(
        decisions(run.events).filter((d) => d.strategy?.mode === 'rollback' && d.new === '1000'),
        log,
      ).toEqual([]);
      expect(Math.min(...run.levels.slice(-10)), log).toBeGreaterThanOrEqual(2);
    }
  });

  it('never explores while a constraint is violated, and a violation lasts one window at most', async () => {
    const r: Response = { wait: (l) => Math.max(0.05, 0.7 - 0.15 * l), hogShare: (l) => 0.3 + 0.6 * Math.pow(0.5, l), sd: 0.01 };
    const run = await runScene({
      recipe: sceneRecipe({ strategy: 'learned', constraint: 0.42 }),
      response: r,
      windows: 50,
      seed: 6,
      constraint: 0.42,
    });
    expect(longestRun(run.violated)).toBeLessThanOrEqual(1);
    expect(run.levels.slice(-10).every((l) => l === 2)).toBe(true);
  });

  it("falls back to the rules when the action's relax_when holds: they give the change back", async () => {
    // The hog's load is over from window 15 (not dominant); the objective now reads the same at every level.
    const r: Response = { ...unimodal(3, 0.1, 0.01), outside: (i) => (i >= 15 ? 0.02 : undefined) };
    const recipe = sceneRecipe({ strategy: 'learned', relax: 'step', relaxWhen: '{ not: dominant }' });
    const run = await runScene({ recipe, response: r, windows: 30, seed: 1 });
    const before = run.levels[13]!;
    expect(before).toBeGreaterThan(0);
    expect(notices(run.events)).toContain("learned: falling back to the rules: the action's condition to give back holds (not dominant)");
    const back = decisions(run.events).filter((d) => d.ts >= new Date(15_000).toISOString());
    // A step back per window (cooldown 1 s) to the original (weights 124, 248, 496, 992, then 1000), and no step after.
    expect(back.length).toBeGreaterThanOrEqual(before);
    for (const d of back) expect(d).toMatchObject({ kind: 'relax', strategy: { mode: 'fallback' } });
    expect(back.at(-1)).toMatchObject({ new: '1000' });
    expect(run.levels.slice(-5)).toEqual([0, 0, 0, 0, 0]);
  });

  it('falls back to the rules when the objective has no value, and says so', async () => {
    const r: Response = { ...unimodal(2), gaps: new Set([6, 7, 8]) };
    const run = await runScene({ recipe: sceneRecipe({ strategy: 'learned' }), response: r, windows: 20, seed: 7 });
    expect(notices(run.events).some((m) => /falling back to the rules: the objective has no finite value/.test(m))).toBe(true);
    expect((run.strategy as LearnedStrategy).stats.fallbackWindows).toBe(3);
  });

  it('falls back to the rules when the data is stale (no fresh window), and says so', async () => {
    const run = await runScene({
      recipe: sceneRecipe({ strategy: 'learned' }),
      response: unimodal(3),
      windows: 20,
      seed: 9,
      stall: { after: 8, ms: 10_000 },
    });
    const ns = notices(run.events);
    expect(
      ns.some((m) => /falling back to the rules: the data is stale \(11\.0 s since the previous window\)/.test(m)),
      ns.join('\n'),
    ).toBe(true);
    expect((run.strategy as LearnedStrategy).stats.fallbackWindows).toBe(1);
    // Whatever is decided in the stale window is the rules' (tagged fallback), and the learner takes over again after it.
    const at = Date.parse('1970-01-01T00:00:19.000Z');
    for (const d of decisions(run.events).filter((x) => Date.parse(x.ts) === at)) expect(d.strategy?.mode).toBe('fallback');
    expect(ns.some((m) => /learned: back in control/.test(m))).toBe(true);
  });

  it('falls back when the objective is too noisy to learn from', async () => {
    const run = await runScene({
      recipe: sceneRecipe({ strategy: 'learned', noise: 0.01 }),
      response: unimodal(2, 0.1, 0.2),
      windows: 20,
      seed: 8,
    });
    expect(notices(run.events).some((m) => /varies too much to learn from/.test(m))).toBe(true);
  });

  it('leaps only on a gain far beyond the noise: levels that gain less are each measured for 3 windows', async () => {
    // Level 0 -> 1 gains 0.4 (13 x the noise): a leap; every later level gains 0.1 (3.3 x): no leap.
    const run = await runScene({ recipe: sceneRecipe({ strategy: 'learned' }), response: unimodal(4), windows: 40, seed: 12 });
    const ds = decisions(run.events).filter((d) => d.strategy?.strategy === 'learned' && d.strategy.mode === 'explore');
    const leaps = ds.filter((d) => / after \d+ windows? \(the detectors still hold, level \d gained/.test(d.reason));
    expect(
      leaps.map((d) => d.new),
      run.levels.join(''),
    ).toEqual(['250']);
    expect((run.strategy as LearnedStrategy).stats.leaps).toBe(1);
    // Levels 2 and 3 held for 3 windows each before the next step.
    const s = run.levels.join('');
    expect(s, s).toMatch(/^01222333/);
  });

  it('a leap past the best level goes back to the level it left (measured for one window only)', async () => {
    // Best at level 1: level 1 gains 0.4 in its first window (a leap to 2), level 2 is 0.1 worse.
    const run = await runScene({ recipe: sceneRecipe({ strategy: 'learned' }), response: unimodal(1), windows: 30, seed: 4 });
    const log = `${run.levels.join('')}\n${notices(run.events).join('\n')}`;
    expect(
      run.levels.slice(-20).every((l) => l === 1),
      log,
    ).toBe(true);
    expect((run.strategy as LearnedStrategy).stats.convergedAfter!, log).toBeLessThanOrEqual(6);
  });

  it('withdraws the convergence when the held level drifts and the learner moves again, and counts it again from the drift', async () => {
    // Best at level 2 until window 40; from then on outside load makes level 2 worse than level 3.
    let i = 0;
    const base = unimodal(2, 0.15, 0.01);
    const r: Response = { ...base, wait: (l) => base.wait(l) + (++i > 40 && l === 2 ? 0.3 : 0) };
    const run = await runScene({ recipe: sceneRecipe({ strategy: 'learned' }), response: r, windows: 80, seed: 3 });
    const s = (run.strategy as LearnedStrategy).stats;
    const ns = notices(run.events);
    const log = `${run.levels.join('')}\n${ns.join('\n')}`;
    expect(run.levels[39], log).toBe(2);
    expect(
      ns.some((m) => /learned: level 2 drifted/.test(m)),
      log,
    ).toBe(true);
    expect(
      ns.some((m) => /moved again .* after converging at level 2 after \d+ windows: not converged any more/.test(m)),
      log,
    ).toBe(true);
    expect(s.unconverged, log).toBeGreaterThanOrEqual(1);
    expect(s.drifts, log).toBeGreaterThanOrEqual(1);
    expect(
      run.levels.slice(-10).every((l) => l === 3),
      log,
    ).toBe(true);
    expect(
      ns.some((m) => /converged at level 3 after \d+ windows since the drift/.test(m)),
      log,
    ).toBe(true);
    expect(s.convergedAfter, log).toBeDefined();
    expect(s.convergedAfter!, log).toBeLessThanOrEqual(10);
  });

  it('is deterministic for a seed', async () => {
    const a = await runScene({ recipe: sceneRecipe({ strategy: 'learned' }), response: unimodal(3, 0.05, 0.03), windows: 40, seed: 11 });
    const b = await runScene({ recipe: sceneRecipe({ strategy: 'learned' }), response: unimodal(3, 0.05, 0.03), windows: 40, seed: 11 });
    expect(a.levels).toEqual(b.levels);
    expect(decisions(a.events).map((d) => d.reason)).toEqual(decisions(b.events).map((d) => d.reason));
  });

  it('property: for any unimodal response, noise and seed: steps of one level, within bounds, no constraint violated two windows in a row', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.double({ min: 0.02, max: 0.2, noNaN: true }),
        fc.double({ min: 0, max: 0.03, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.option(fc.double({ min: 0.35, max: 0.8, noNaN: true }), { nil: undefined }),
        async (best, slope, sd, seed, constraint) => {
          const response = unimodal(best, slope, sd);
          const run = await runScene({
            recipe: sceneRecipe({ strategy: 'learned', ...(constraint !== undefined ? { constraint } : {}) }),
            response,
            windows: 40,
            seed,
            ...(constraint !== undefined ? { constraint } : {}),
          });
          for (let i = 1; i < run.levels.length; i++) expect(Math.abs(run.levels[i]! - run.levels[i - 1]!)).toBeLessThanOrEqual(1);
          for (const w of run.io.writes) expect(Number(w.value)).toBeGreaterThanOrEqual(10);
          expect(longestRun(run.violated)).toBeLessThanOrEqual(1);
          // No explore or exploit step taken in a window that violated a constraint.
          for (const d of decisions(run.events)) {
            if (d.strategy?.mode !== 'explore' && d.strategy?.mode !== 'exploit') continue;
            const i = Math.round(Date.parse(d.ts) / 1000) - 1;
            expect(run.violated[i]).toBe(false);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('on windows recorded by the effect suite (misweighted neighbor: a starved victim next to a hog, other load coming and going)', () => {
  // Recorded with `npm run effect -- --only misweighted-neighbor --conditions static --logs DIR` (500 ms windows, two
  // repetitions of each static cpu.shares: 16384, 4096, 1024, 256 = levels 0..3), trimmed to the two cgroups.
  const levels = recordedLevels(path.join(__dirname, '../fixtures/effect/misweighted-neighbor.ndjson'));
  const recipe = (strategy: 'heuristic' | 'learned') =>
    sceneRecipe({ strategy, min: 125, constraint: 0.25, constraintSignal: 'cpu_share' });
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const victimWait = (r: SignalRecords['sched']): number => r!.cgroups!.find((c) => c.cgroup === '/p/victim')!.wait_share as number;

  /** One closed-loop run over the recording; the victim's mean wait share after the first 10 windows. */
  async function replay(strategy: 'heuristic' | 'learned' | number, seed: number) {
    const rec = recordedResponse(levels, seed);
    const waits: number[] = [];
    const run = await runScene({
      recipe: recipe(typeof strategy === 'number' ? 'heuristic' : strategy),
      response: unimodal(3),
      windows: 60,
      seed,
      stepMs: 500,
      recorded: (l) => {
        const r = rec(typeof strategy === 'number' ? strategy : l);
        waits.push(victimWait(r));
        return r;
      },
    });
    return { run, wait: mean(waits.slice(10)) };
  }

  const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
  it('the learner converges within 30 windows, a constraint violated one window at a time, never worse than no tuner, at least as good as the rules', async () => {
    const learned: number[] = [];
    const heuristic: number[] = [];
    for (const seed of seeds) {
      const l = await replay('learned', seed);
      const s = (l.run.strategy as LearnedStrategy).stats;
      const log = notices(l.run.events).join('\n');
      expect(s.convergedAfter, log).toBeDefined();
      expect(s.convergedAfter!, log).toBeLessThanOrEqual(30);
      expect(s.maxViolationRun, log).toBeLessThanOrEqual(1);
      const none = (await replay(0, seed)).wait;
      expect(l.wait, `seed ${seed}: ${l.run.levels.join('')}`).toBeLessThan(none - 0.3);
      learned.push(l.wait);
      heuristic.push((await replay('heuristic', seed)).wait);
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    expect(
      med(learned),
      `learned ${learned.map((x) => x.toFixed(3))}; heuristic ${heuristic.map((x) => x.toFixed(3))}`,
    ).toBeLessThanOrEqual(med(heuristic) + 0.03);
  });

  it("where a level gains far beyond the noise in its first windows, the learner leaps on at the rules' pace (it measured every level 3 windows: the bound at window 7 in 10 of 12 seeds)", async () => {
    const at: number[] = [];
    const rules: number[] = [];
    for (let seed = 1; seed <= 12; seed++) {
      const l = await replay('learned', seed);
      at.push(l.run.levels.indexOf(3));
      rules.push((await replay('heuristic', seed)).run.levels.indexOf(3));
    }
    const log = `learned reaches the bound at ${at.join(', ')}; the rules at ${rules.join(', ')}`;
    const sorted = [...at].sort((a, b) => a - b);
    expect(sorted[6], log).toBeLessThanOrEqual(6);
    expect(at.filter((x, i) => x <= rules[i]!).length, log).toBeGreaterThanOrEqual(4);
  });
});

describe('on windows recorded by the effect suite (request loop: a mostly sleeping victim next to a hog)', () => {
  // Recorded with `npm run effect -- --only request-latency --logs DIR` (500 ms windows, three repetitions of each static
  // cpu.shares: 16384, 4096, 1024, 256 = levels 0..3), trimmed to the two cgroups. The loop's p99 there: 2,262-5,267 us at
  // level 0, 2,681-3,911 at 1, 57-3,684 at 2 and 70-191 at 3; its run-queue wait share (the objective) scatters by 0.1-0.24
  // from one window to the next at every level, with means 0.60-0.88: the detectors hold at every level.
  const levels = recordedLevels(path.join(__dirname, '../fixtures/effect/request-latency.ndjson'));
  const recipe = (strategy: 'heuristic' | 'learned') =>
    sceneRecipe({ strategy, min: 125, constraint: 0.25, constraintSignal: 'cpu_share' });

  async function replay(strategy: 'heuristic' | 'learned', seed: number) {
    const rec = recordedResponse(levels, seed);
    return runScene({ recipe: recipe(strategy), response: unimodal(3), windows: 32, seed, stepMs: 500, recorded: (l) => rec(l) });
  }

  it('while the detectors hold, the learner steps back only on evidence: it holds the bound as the rules do, and never returns to the original on their baseline', async () => {
    const runs = [];
    for (let seed = 1; seed <= 12; seed++) runs.push({ seed, l: await replay('learned', seed), h: await replay('heuristic', seed) });
    const all = runs.map((r) => `seed ${r.seed}: learned ${r.l.levels.join('')}, heuristic ${r.h.levels.join('')}`).join('\n');
    for (const { l, h } of runs) {
      // The rules reach the bound (level 3) by window 12 and stay there.
      expect(
        h.levels.slice(12).every((x) => x === 3),
        all,
      ).toBe(true);
      // No step back to the original value on the rules' one-window baseline.
      expect(
        decisions(l.events).filter((d) => d.kind === 'relax' && d.new === '1000'),
        all,
      ).toEqual([]);
    }
    // Spells of outside load make one level read better than its neighbour for several windows now and then (a
    // learner on this objective cannot always tell): most runs hold the bound from window 12 on, and the median run
    // spends at least 90 % of those windows there. (Before: 6 of 12 held it; 4 went back to the original.)
    const held = runs.filter((r) => r.l.levels.slice(12).every((x) => x === 3)).length;
    expect(held, all).toBeGreaterThanOrEqual(10);
    const share = runs.map((r) => r.l.levels.slice(12).filter((x) => x === 3).length / (r.l.levels.length - 12)).sort((a, b) => a - b);
    expect(share[6]!, all).toBeGreaterThanOrEqual(0.9);
  });
});

describe('what the learner learned, on disk', () => {
  it('a restart starts warm and goes straight to the best level', async () => {
    const file = path.join(tmp(), 'learned.json');
    const store = new LearnedStore(file);
    const first = await runScene({ recipe: sceneRecipe({ strategy: 'learned' }), response: unimodal(3), windows: 60, seed: 21, store });
    expect(notices(first.events).some((m) => m.includes(`saved the model of /p/hog to ${file}`))).toBe(true);
    const second = await runScene({
      recipe: sceneRecipe({ strategy: 'learned' }),
      response: unimodal(3),
      windows: 20,
      seed: 22,
      store,
      start: 100_000,
    });
    expect(notices(second.events).some((m) => /warm start for \/p\/hog/.test(m))).toBe(true);
    // Warm: level 3 reached by the first steps, no detour, one window per level: the saved model already measured
    // levels 1 and 2 (a cold learner spends 3 windows at each).
    const firstAt3 = second.levels.indexOf(3);
    expect(firstAt3, second.levels.join('')).toBeGreaterThan(0);
    expect(firstAt3, second.levels.join('')).toBeLessThanOrEqual(4);
    expect(second.levels.slice(0, firstAt3).every((l, i, xs) => i === 0 || l >= xs[i - 1]!)).toBe(true);
  });

  it.each([
    { name: 'group-writable', prep: (f: string) => chmodSync(f, 0o664), why: /writable by its group/ },
    { name: 'not JSON', prep: (f: string) => writeFileSync(f, '{nope', { mode: 0o600 }), why: /not JSON/ },
    {
      name: 'a bad field',
      prep: (f: string) =>
        writeFileSync(
          f,
          JSON.stringify({
            version: 1,
            entries: { k: { original: '1', arms: { '0': { n: -1, mean: 0, m2: 0, violations: 0 } }, updated: 'x' } },
          }),
          { mode: 0o600 },
        ),
      why: /entries\.k\.arms\.0\.n/,
    },
    {
      name: 'a newer version',
      prep: (f: string) => writeFileSync(f, JSON.stringify({ version: 2, entries: {} }), { mode: 0o600 }),
      why: /version/,
    },
  ])('refuses a file that is $name: a warning and a cold start', async ({ prep, why }) => {
    const file = path.join(tmp(), 'learned.json');
    const store = new LearnedStore(file);
    await runScene({ recipe: sceneRecipe({ strategy: 'learned' }), response: unimodal(3), windows: 30, seed: 31, store });
    prep(file);
    const again = await runScene({
      recipe: sceneRecipe({ strategy: 'learned' }),
      response: unimodal(3),
      windows: 10,
      seed: 32,
      store,
      start: 100_000,
    });
    const ns = notices(again.events);
    expect(
      ns.some((m) => m.includes(`ignoring ${file}`) && why.test(m) && /starts cold/.test(m)),
      ns.join('\n'),
    ).toBe(true);
    expect(ns.some((m) => /warm start/.test(m))).toBe(false);
  });

  it('levels are steps from the original: another original value starts cold', async () => {
    const file = path.join(tmp(), 'learned.json');
    const store = new LearnedStore(file);
    await runScene({ recipe: sceneRecipe({ strategy: 'learned' }), response: unimodal(3), windows: 30, seed: 41, store });
    writeFileSync(file, (await import('node:fs')).readFileSync(file, 'utf8').replace('"original": "1000"', '"original": "2000"'), {
      mode: 0o600,
    });
    const again = await runScene({
      recipe: sceneRecipe({ strategy: 'learned' }),
      response: unimodal(3),
      windows: 5,
      seed: 42,
      store,
      start: 100_000,
    });
    expect(notices(again.events).some((m) => /learned from 2000, but the knob started at 1000 this time: starting cold/.test(m))).toBe(
      true,
    );
  });
});

it('levelOf inverts the scene weights', () => {
  expect([1000, 500, 250, 125, 62, 31].map(levelOf)).toEqual([0, 1, 2, 3, 4, 5]);
});

describe('tuner replay with the learned strategy', () => {
  const feed = new URL('../fixtures/replay/noisy-neighbor.ndjson', import.meta.url).pathname;
  const recipe = new URL('../../recipes/noisy-neighbor.yaml', import.meta.url).pathname;
  const collect = async (seed: number): Promise<RunEvent[]> => {
    const { replay } = await import('../../src/commands/replay.js');
    const out: RunEvent[] = [];
    for await (const e of replay({
      feed,
      recipes: [recipe],
      cgroup: '/tuner-test-rec',
      assume: ['/sys/fs/cgroup/tuner-test-rec/hog/cpu.weight=10000'],
      strategy: 'learned',
      seed,
    }))
      out.push(e);
    return out.filter((e) => e.type !== 'summary');
  };

  it('gives the same decisions for the same seed, and explains each', async () => {
    const a = await collect(3);
    const b = await collect(3);
    expect(a).toEqual(b);
    const ds = decisions(a);
    expect(ds.length).toBeGreaterThan(1);
    expect(ds[0]).toMatchObject({ kind: 'step', strategy: { strategy: 'learned', mode: 'fallback' } });
    expect(ds[0]!.reason).toMatch(/the rules take the first step/);
    for (const d of ds.slice(1)) expect(d.strategy?.text).toMatch(/^learned: /);
  });

  it('--strategy learned on a recipe without an objective is a usage error naming the file', async () => {
    const { replay } = await import('../../src/commands/replay.js');
    const dir = tmp();
    const file = path.join(dir, 'plain.yaml');
    writeFileSync(file, (await import('node:fs')).readFileSync(recipe, 'utf8').replace(/\nobjective:[\s\S]*?\nactions:/, '\nactions:'), {
      mode: 0o600,
    });
    const it = replay({ feed, recipes: [file], cgroup: '/tuner-test-rec', strategy: 'learned' });
    await expect(async () => {
      for await (const _ of it) void _;
    }).rejects.toThrow(`--strategy learned: recipe "${file}" has no objective to learn from`);
  });
});

describe('the roles of hog and victim after a step', () => {
  it('a hog lowered until it waits on the run queue is not a victim: the rules never lower the victim it was lowered for', async () => {
    // After the first step the hog (lowered) waits more than 40% of its runnable time and the victim holds most of
    // the scope's CPU: by the detectors alone the roles have swapped. Acting on that would lower the victim.
    const VICTIM = '/sys/fs/cgroup/p/victim/cpu.weight';
    const host = SimHost.withCpus(2);
    const io = new SimIo(
      [0, 1],
      new Map([
        [HOG, '1000'],
        [VICTIM, '1000'],
      ]),
    );
    const scope = new ScopeGuard({ cgroup: '/p' }, host);
    const recipe = sceneRecipe();
    const strategy = makeStrategy(recipe, scope, { seed: 1 });
    const e = new Engine({ recipe, strategy, host, io, scope, mode: 'replay', claims: new Map() });
    const events: RunEvent[] = [];
    for (let i = 1; i <= 12; i++) {
      const lowered = Number(io.readSync(hogKnob)) < 1000;
      const cgroups = lowered
        ? [
            { cgroup: '/p/hog', wait_share: 0.6, oncpu_ns: 0.3e9 },
            { cgroup: '/p/victim', wait_share: 0.1, oncpu_ns: 0.7e9 },
          ]
        : [
            { cgroup: '/p/hog', wait_share: 0.1, oncpu_ns: 1.8e9 },
            { cgroup: '/p/victim', wait_share: 0.6, oncpu_ns: 0.1e9 },
          ];
      events.push(
        ...(await e.tick({
          ts: i * 1000,
          records: { sched: { signal: 'sched', interval_ms: 1000, cpus: [{ cpu: 0 }, { cpu: 1 }], cgroups } },
        })),
      );
    }
    const steps = decisions(events).filter((d) => d.kind === 'step');
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.map((d) => d.target)).toEqual(steps.map(() => '/p/hog'));
    expect(io.readSync({ kind: 'file', path: VICTIM })).toBe('1000');
    await e.revertAll(13_000);
    expect(io.readSync(hogKnob)).toBe('1000');
  });
});

describe('LearnedStrategy bookkeeping', () => {
  it("a refused proposal for another target does not block the engaged target's next level", async () => {
    const run = await runScene({ recipe: sceneRecipe({ strategy: 'learned' }), response: unimodal(3), windows: 4, seed: 1 });
    const s = run.strategy as LearnedStrategy;
    const blocked = (s as unknown as { blocked: Map<number, number> }).blocked;
    const before = [...blocked.entries()];
    // A learner-tagged step for a cgroup, as the engine hands back a refused proposal.
    const explore = (key: string) => ({
      kind: 'step' as const,
      action: 0,
      target: { kind: 'cgroup' as const, key },
      rule: 'r',
      evidence: [],
      explain: { strategy: 'learned' as const, mode: 'explore' as const, text: 'learned: explore' },
    });
    s.declined(explore('/p/other'));
    expect([...blocked.entries()]).toEqual(before);
    s.declined(explore('/p/hog'));
    expect(blocked.size).toBe(before.length + 1);
  });
});
