/**
 * What `run` and `replay` share before the first window: the scope a set of
 * recipes runs in (the command line overrides what recipes declare, and
 * recipes of one run must agree), notices about actions that do not apply
 * on this host, and one engine per recipe.
 */
import type { HostView } from '../host/host.js';
import { formatProblem, type Problem } from '../recipes/problems.js';
import type { Recipe } from '../recipes/recipe.js';
import { UsageError } from '../errors.js';
import type { ScopeGuard } from '../scope/guard.js';
import { HeuristicStrategy } from '../strategy/heuristic.js';
import { LearnedStrategy } from '../strategy/learned.js';
import type { LearnedStore } from '../strategy/store.js';
import type { Strategy } from '../strategy/strategy.js';
import type { StrategyKind } from '../recipes/recipe.js';
import { Engine, type EngineOptions } from './engine.js';
import type { NoticeEvent } from './events.js';

/** The scope of a run: flags first, else the one scope every recipe declares (or none). */
export function runScope(recipes: readonly Recipe[], flags: { cgroup?: string; pids?: number[] }): { cgroup?: string; pids?: number[] } {
  if (flags.cgroup !== undefined && flags.pids) throw new UsageError('--pid and --cgroup cannot be combined: choose one scope');
  if (flags.cgroup !== undefined) return { cgroup: flags.cgroup };
  if (flags.pids) return { pids: flags.pids };
  const declared = recipes.map((r) => JSON.stringify(r.scope ?? {}));
  if (new Set(declared).size > 1) {
    const list = recipes
      .map(
        (r) =>
          `${r.name}: ${r.scope?.cgroup !== undefined ? `cgroup ${r.scope.cgroup}` : r.scope?.pids ? `pid ${r.scope.pids.join(',')}` : 'no scope'}`,
      )
      .join('; ');
    throw new UsageError(`recipes of one run must share a scope, and these differ (${list}): give --cgroup or --pid`);
  }
  return { ...(recipes[0]?.scope ?? {}) };
}

export function warningNotices(warnings: ReadonlyArray<{ file: string; problem: Problem }>, ts: string): NoticeEvent[] {
  return warnings.map((w) => ({ type: 'notice', ts, message: formatProblem(w.file, w.problem) }));
}

/** Drop actions that cannot work on this host (saying why), and recipes left without any. */
export function applicable(recipes: readonly Recipe[], host: HostView, ts: string): { recipes: Recipe[]; notices: NoticeEvent[] } {
  const notices: NoticeEvent[] = [];
  const kept: Recipe[] = [];
  for (const r of recipes) {
    const actions = r.actions.filter((a) => {
      const why = a.def.applies?.(host, a.params);
      if (why) notices.push({ type: 'notice', ts, recipe: r.name, message: `${a.name} does not apply on this host: ${why}` });
      return !why;
    });
    if (actions.length === 0)
      notices.push({ type: 'notice', ts, recipe: r.name, message: 'nothing in this recipe applies on this host: it does not run' });
    else kept.push({ ...r, actions });
  }
  return { recipes: kept, notices };
}

/** How a run picks strategies: --strategy overrides the recipes; the learner's seed and store. */
export interface StrategyChoice {
  strategy?: StrategyKind;
  seed: number;
  store?: LearnedStore;
}

/** The strategy a recipe runs with (--strategy learned needs an objective in every recipe). */
export function makeStrategy(recipe: Recipe, scope: ScopeGuard, c: StrategyChoice): Strategy {
  const kind = c.strategy ?? recipe.strategy;
  if (kind === 'learned') {
    if (!recipe.objective)
      throw new UsageError(`--strategy learned: recipe "${recipe.file}" has no objective to learn from (add objective: to it)`);
    return new LearnedStrategy(recipe, scope, { seed: c.seed, ...(c.store ? { store: c.store } : {}) });
  }
  return new HeuristicStrategy(recipe, scope);
}

export function makeEngines(
  recipes: readonly Recipe[],
  o: Omit<EngineOptions, 'recipe' | 'strategy'> & { choice?: StrategyChoice },
): Engine[] {
  const { choice, ...rest } = o;
  return recipes.map((recipe) => new Engine({ recipe, strategy: makeStrategy(recipe, o.scope, choice ?? { seed: 1 }), ...rest }));
}

/** The shortest interval of the recipes (every recipe counts windows of the same length). */
export function runInterval(recipes: readonly Recipe[], flag?: number): number {
  return flag ?? Math.min(...recipes.map((r) => r.intervalMs));
}
