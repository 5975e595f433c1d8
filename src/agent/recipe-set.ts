/**
 * The agent's recipes: every *.yaml / *.yml of a directory, validated
 * together (one bad file refuses the whole set), each in audit mode unless
 * it says `apply: true`. Each recipe gets an engine with its own scope
 * guard: the agent observes the whole host, a recipe's scope bounds what it
 * may change.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { KernelError, UsageError } from '../errors.js';
import { applicable, makeEngines, warningNotices, type StrategyChoice } from '../engine/setup.js';
import type { Engine } from '../engine/engine.js';
import type { NoticeEvent } from '../engine/events.js';
import type { HostView } from '../host/host.js';
import type { Journal } from '../journal/journal.js';
import type { KnobIo } from '../knobs/knob.js';
import { loadRecipes } from '../recipes/load.js';
import type { Recipe } from '../recipes/recipe.js';
import { ScopeGuard } from '../scope/guard.js';
import { resolveScope } from '../scope/resolve.js';
import type { CgroupLayout } from '../cgroup/layout.js';
import { SIGNALS, type SignalName } from '../signals/open.js';

export interface LoadedSet {
  dir: string;
  recipes: Recipe[];
  notices: NoticeEvent[];
}

/** The recipe files of a directory, sorted by name. */
export function recipeFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      `--recipes ${JSON.stringify(dir)}: expected a directory of recipe files, got ${code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'a file' : String(code ?? err)}`,
    );
  }
  return names
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/**
 * Load and check every recipe of `dir`: schema and rules (RecipeError, exit
 * 2), then what only the agent refuses. Nothing is started here.
 */
export function loadRecipeSet(dir: string, host: HostView, layout: CgroupLayout): LoadedSet {
  const files = recipeFiles(dir);
  if (files.length === 0)
    return {
      dir,
      recipes: [],
      notices: [{ type: 'notice', ts: new Date().toISOString(), message: `no recipe files in ${dir}: the agent only exports metrics` }],
    };
  const { recipes: loaded, warnings } = loadRecipes(files);
  const ts = new Date().toISOString();
  const notices = warningNotices(warnings, ts);
  for (const r of loaded) {
    for (const s of r.signals) {
      if (!(SIGNALS as readonly string[]).includes(s))
        throw new KernelError(`recipe ${r.name} (${r.file}) reads the ${s} signal, which this build of tuner does not provide yet`);
    }
    if (r.scope) resolveScope(r.scope, layout); // a scope that does not exist is bad input now, not at the first change
    if (r.apply && !r.scope && r.actions.some((a) => a.name !== 'io_prefetch')) {
      throw new UsageError(
        `recipe ${JSON.stringify(r.file)}: apply: true needs a scope: (a cgroup or PIDs), since its actions change cgroups or processes; tuner never acts on the whole host`,
      );
    }
  }
  const { recipes, notices: more } = applicable(loaded, host, ts);
  return { dir, recipes, notices: [...notices, ...more] };
}

export interface EngineContext {
  host: HostView;
  layout: CgroupLayout;
  /** Real writes (apply recipes) and an overlay on them (audit recipes). */
  realIo: KnobIo;
  auditIo: KnobIo;
  journal: () => Journal;
  /** Knobs held by apply-mode recipes (and other tuners); audit recipes claim only among themselves. */
  claims: Map<string, string>;
  auditClaims: Map<string, string>;
  /** The strategy override, the learner's seed, and where apply-mode learners keep what they learned. */
  choice?: StrategyChoice;
}

/** One engine per recipe, each with its recipe's mode and scope. */
export function startEngines(recipes: readonly Recipe[], ctx: EngineContext): Engine[] {
  return recipes.flatMap((r) => {
    const scope = resolveScope(r.scope ?? {}, ctx.layout);
    const guard = new ScopeGuard({ cgroup: scope.cgroup?.name, pids: scope.pids }, ctx.host);
    const { strategy, store, seed } = ctx.choice ?? { seed: 1 };
    // The override reaches recipes that have an objective to learn from; an audit learns nothing to keep.
    const choice = { ...(strategy && r.objective ? { strategy } : {}), seed, ...(store && r.apply ? { store } : {}) };
    return r.apply
      ? makeEngines([r], {
          host: ctx.host,
          io: ctx.realIo,
          scope: guard,
          mode: 'apply',
          journal: ctx.journal(),
          claims: ctx.claims,
          choice,
        })
      : makeEngines([r], { host: ctx.host, io: ctx.auditIo, scope: guard, mode: 'audit', claims: ctx.auditClaims, choice });
  });
}

/** The signals a set of recipes and the metrics need, each once. */
export function signalsFor(recipes: readonly Recipe[], metrics: readonly SignalName[]): SignalName[] {
  return [...new Set<SignalName>([...metrics, ...recipes.flatMap((r) => r.signals as SignalName[])])];
}
