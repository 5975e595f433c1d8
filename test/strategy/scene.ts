/**
 * A closed-loop scene for strategy tests: a "hog" cgroup whose cpu.weight
 * (simulated knob) decides the starved victim's run-queue wait share and the
 * hog's own share of the machine, through response curves the test chooses,
 * with seeded noise. Each window is built from the knob's current value, so
 * whatever the strategy and engine do feeds back into the next window.
 */
import { readFileSync } from 'node:fs';
import { Engine } from '../../src/engine/engine.js';
import type { RunEvent } from '../../src/engine/events.js';
import { makeStrategy } from '../../src/engine/setup.js';
import { SimHost } from '../../src/host/host.js';
import type { KnobRef } from '../../src/knobs/knob.js';
import { SimIo } from '../../src/knobs/sim-io.js';
import { parseRecipe } from '../../src/recipes/load.js';
import type { Recipe, StrategyKind } from '../../src/recipes/recipe.js';
import { ScopeGuard } from '../../src/scope/guard.js';
import { normalDraw, seededRandom } from '../../src/stats/rng.js';
import type { LearnedStore } from '../../src/strategy/store.js';
import type { Strategy, Window } from '../../src/strategy/strategy.js';
import type { SignalRecords } from '../../src/detect/samples.js';

export const HOG = '/sys/fs/cgroup/p/hog/cpu.weight';
export const hogKnob: KnobRef = { kind: 'file', path: HOG };

export function sceneRecipe(
  o: {
    objective?: boolean;
    constraint?: number;
    cooldown?: string;
    strategy?: StrategyKind;
    noise?: number;
    min?: number;
    constraintSignal?: string;
    /** The action's relax (default: cpu_weight's, hold), and its relax_when (a condition in YAML). */
    relax?: 'step' | 'restore';
    relaxWhen?: string;
  } = {},
): Recipe {
  const text = `name: nn
description: test
detectors:
  starved: { signal: sched.cgroups.wait_share, above: 0.4, clear: 0.2, for: 1 }
  dominant: { signal: sched.cgroups.cpu_share, above: 0.6, clear: 0.45, for: 1 }
when: { all: [starved, dominant] }
${o.objective === false ? '' : `objective: { signal: sched.cgroups.wait_share, of: starved, goal: lower, noise: ${o.noise ?? 0.03} }\n`}${
    o.constraint !== undefined
      ? `constraints:\n  - { signal: sched.cgroups.${o.constraintSignal ?? 'machine_share'}, of: target, at_least: ${o.constraint} }\n`
      : ''
  }${o.strategy ? `strategy: ${o.strategy}\n` : ''}actions:
  - action: cpu_weight
    target: { detector: dominant, sibling_of: starved }
    direction: lower
    factor: 0.5
    bounds: { min: ${o.min ?? 10}, max: 10000 }
${o.relax ? `    relax: ${o.relax}\n` : ''}${o.relaxWhen ? `    relax_when: ${o.relaxWhen}\n` : ''}guards: { cooldown: ${o.cooldown ?? '1s'}, max_changes_per_hour: 1000 }
`;
  const l = parseRecipe(text, 't.yaml', { asRoot: false });
  if (!l.recipe) throw new Error(JSON.stringify(l.problems));
  return l.recipe;
}

/** Level = steps of factor 0.5 below the starting weight 1000. */
export const levelOf = (weight: number): number => Math.round(Math.log2(1000 / weight));

export interface Response {
  /** The victim's wait share at a level (before noise). */
  wait(level: number): number;
  /** The hog's share of the machine at a level. */
  hogShare(level: number): number;
  /** Standard deviation of the noise on the wait share. */
  sd: number;
  /** Windows (1-based) whose wait share is NaN or missing. */
  gaps?: ReadonlySet<number>;
  /** The hog's share in window i (1-based) when outside load takes it, whatever the level. */
  outside?: (i: number) => number | undefined;
}

/** The hog's share of the machine in window i at a level. */
const hogShareAt = (r: Response, level: number, i: number): number => r.outside?.(i) ?? r.hogShare(level);

export function window(ts: number, weight: number, r: Response, random: () => number, i: number): Window {
  const l = levelOf(weight);
  const hog = hogShareAt(r, l, i);
  const wait = r.gaps?.has(i) ? undefined : Math.min(1, Math.max(0, r.wait(l) + r.sd * normalDraw(random)));
  return {
    ts,
    records: {
      sched: {
        signal: 'sched',
        interval_ms: 1000,
        cpus: [{ cpu: 0 }, { cpu: 1 }],
        cgroups: [
          { cgroup: '/p/hog', wait_share: 0.3, oncpu_ns: hog * 2e9 },
          { cgroup: '/p/victim', ...(wait !== undefined ? { wait_share: wait } : {}), oncpu_ns: Math.max(0.02, 1 - hog) * 0.2e9 },
        ],
      },
    },
  };
}

/**
 * Windows the effect suite recorded (`tuner watch sched --json`) while the
 * knob was held at each level: a real victim and hog on this kind of
 * machine, with its real scatter and its shifts (other load comes and
 * goes). The cgroups are renamed into the scene's /p.
 */
export function recordedLevels(file: string): Map<number, SignalRecords['sched'][]> {
  const out = new Map<number, SignalRecords['sched'][]>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const { level, rep: _rep, ...r } = JSON.parse(line) as { level: number; rep: string; cgroups: Array<{ cgroup: string }> };
    const rec = { ...r, cgroups: r.cgroups.map((c) => ({ ...c, cgroup: `/p/${c.cgroup.split('/').at(-1)}` })) };
    out.set(level, [...(out.get(level) ?? []), rec as unknown as SignalRecords['sched']]);
  }
  return out;
}

/** A closed loop over recorded windows: each level reads on from its own cursor (a seeded start), so a shift lasts as recorded. */
export function recordedResponse(levels: Map<number, SignalRecords['sched'][]>, seed: number): (level: number) => SignalRecords['sched'] {
  const random = seededRandom(seed);
  const cursor = new Map([...levels].map(([l, xs]) => [l, Math.floor(random() * xs.length)]));
  const top = Math.max(...levels.keys());
  return (level) => {
    const l = Math.min(level, top);
    const xs = levels.get(l)!;
    const i = cursor.get(l)!;
    cursor.set(l, (i + 1) % xs.length);
    return xs[i]!;
  };
}

export interface SceneRun {
  events: RunEvent[];
  /** Per window: the level in force during it, and whether the constraint was violated. */
  levels: number[];
  violated: boolean[];
  strategy: Strategy;
  io: SimIo;
}

export async function runScene(o: {
  recipe: Recipe;
  response: Response;
  windows: number;
  seed: number;
  strategy?: StrategyKind;
  store?: LearnedStore;
  constraint?: number;
  start?: number;
  /** Windows from recordings per level instead of the response curves (recordedResponse). */
  recorded?: (level: number) => SignalRecords['sched'];
  /** Window length (ms, default 1000). */
  stepMs?: number;
  /** No window for this long (ms) after window `after`: the signal source stalled. */
  stall?: { after: number; ms: number };
}): Promise<SceneRun> {
  const host = SimHost.withCpus(2);
  const io = new SimIo([0, 1], new Map([[HOG, '1000']]));
  const scope = new ScopeGuard({ cgroup: '/p' }, host);
  const strategy = makeStrategy(o.recipe, scope, {
    ...(o.strategy ? { strategy: o.strategy } : {}),
    seed: o.seed,
    ...(o.store ? { store: o.store } : {}),
  });
  const e = new Engine({ recipe: o.recipe, strategy, host, io, scope, mode: 'replay', claims: new Map() });
  const random = seededRandom(o.seed ^ 0x5eed);
  const events: RunEvent[] = [];
  const levels: number[] = [];
  const violated: boolean[] = [];
  const t0 = o.start ?? 0;
  for (let i = 1; i <= o.windows; i++) {
    const weight = Number(io.readSync(hogKnob));
    levels.push(levelOf(weight));
    violated.push(o.constraint !== undefined && hogShareAt(o.response, levelOf(weight), i) < o.constraint);
    const step = o.stepMs ?? 1000;
    const ts = t0 + i * step + (o.stall && i > o.stall.after ? o.stall.ms : 0);
    const w = o.recorded ? { ts, records: { sched: o.recorded(levelOf(weight)) } } : window(ts, weight, o.response, random, i);
    events.push(...(await e.tick(w)));
  }
  const end = await e.revertAll(t0 + (o.windows + 1) * (o.stepMs ?? 1000) + (o.stall?.ms ?? 0));
  events.push(...end.events);
  return { events, levels, violated, strategy, io };
}

/** A unimodal response: the wait share is lowest at level `best`, rising `slope` per level away from it. */
export function unimodal(best: number, slope = 0.1, sd = 0.01, floor = 0.25): Response {
  return {
    wait: (l) => Math.min(0.95, floor + slope * Math.abs(l - best) + (l === 0 ? 0.3 : 0)),
    hogShare: (l) => 0.3 + 0.6 * Math.pow(0.5, l),
    sd,
  };
}
