import { describe, expect, it } from 'vitest';
import { ConfigError, parseAgentConfig } from '../../src/agent/config.js';
import { startEngines, type EngineContext } from '../../src/agent/recipe-set.js';
import type { CgroupLayout } from '../../src/cgroup/layout.js';
import type { DecisionEvent, RunEvent } from '../../src/engine/events.js';
import type { StrategyChoice } from '../../src/engine/setup.js';
import { SimHost } from '../../src/host/host.js';
import { OverlayIo, SimIo } from '../../src/knobs/sim-io.js';
import { seededRandom } from '../../src/stats/rng.js';
import { HOG, sceneRecipe, unimodal, window } from '../strategy/scene.js';

const layout: CgroupLayout = { mode: 'v2', hierarchies: [], byController: {} };

/** The strategy that decided each change an agent engine made for a recipe over 12 windows. */
async function deciders(recipe: ReturnType<typeof sceneRecipe>, choice?: StrategyChoice): Promise<string[]> {
  const io = new SimIo([0, 1], new Map([[HOG, '1000']]));
  const ctx: EngineContext = {
    host: SimHost.withCpus(2),
    layout,
    realIo: io,
    auditIo: new OverlayIo(io),
    journal: () => {
      throw new Error('an audit recipe journals nothing');
    },
    claims: new Map(),
    auditClaims: new Map(),
    ...(choice ? { choice } : {}),
  };
  const [engine] = startEngines([recipe], ctx);
  const random = seededRandom(3);
  const events: RunEvent[] = [];
  for (let i = 1; i <= 12; i++) {
    const weight = Number(await ctx.auditIo.read({ kind: 'file', path: HOG }));
    events.push(...(await engine!.tick(window(i * 1000, weight, unimodal(3), random, i))));
  }
  return events
    .filter((e): e is DecisionEvent => e.type === 'decision' && e.kind !== 'revert')
    .map((d) => `${d.strategy?.strategy}/${d.strategy?.mode}`);
}

describe('tuner agent: the strategy a recipe runs with', () => {
  it('a recipe with strategy: learned runs the learner (the rules take only its first step)', async () => {
    const d = await deciders(sceneRecipe({ strategy: 'learned' }), { seed: 1 });
    expect(d.length).toBeGreaterThan(1);
    expect(d[0]).toBe('learned/fallback');
    expect(d.slice(1).every((x) => /^learned\/(explore|exploit|rollback|constraint)$/.test(x))).toBe(true);
  });

  it('a recipe without strategy runs the rules, unless the agent config says learned', async () => {
    expect((await deciders(sceneRecipe(), { seed: 1 })).every((x) => x.startsWith('heuristic/'))).toBe(true);
    const d = await deciders(sceneRecipe(), { strategy: 'learned', seed: 1 });
    expect(d[0]).toBe('learned/fallback');
  });

  it('the config override leaves a recipe without an objective to the rules (nothing to learn from)', async () => {
    const d = await deciders(sceneRecipe({ objective: false }), { strategy: 'learned', seed: 1 });
    expect(d.length).toBeGreaterThan(0);
    expect(d.every((x) => x.startsWith('heuristic/'))).toBe(true);
  });

  it('the agent config takes strategy: heuristic or learned, and names a bad value', () => {
    expect(parseAgentConfig('strategy: learned\n', 'agent.yaml').strategy).toBe('learned');
    expect(parseAgentConfig('', 'agent.yaml').strategy).toBeUndefined();
    expect(() => parseAgentConfig('strategy: smart\n', 'agent.yaml')).toThrow(ConfigError);
    expect(() => parseAgentConfig('strategy: smart\n', 'agent.yaml')).toThrow(/agent\.yaml.*strategy.*"heuristic" or "learned"/s);
  });
});
