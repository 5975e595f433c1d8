/**
 * A hook in a journal is a command tuner would run as root: `revert` runs it
 * only when the recipe that declared it can still be read, is trusted (only
 * root can write it or its directory), and declares exactly that command for
 * that action and target. Anything else is refused, never run.
 */
import { hookKnob, type PressureBackoffParams } from '../actions/pressure-backoff.js';
import { loadRecipeFile } from '../recipes/load.js';
import type { Recipe } from '../recipes/recipe.js';
import type { JournalEntry } from './journal.js';

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Why the hook of this entry must not run, or undefined when its recipe declares it. */
export function hookRefusal(e: JournalEntry, cache = new Map<string, Recipe | string>()): string | undefined {
  if (e.knob.kind !== 'hook') return undefined;
  const file = e.recipe_file;
  if (!file) return 'the journal does not name the recipe file that declares the hook, so it cannot be checked';
  let recipe = cache.get(file);
  if (recipe === undefined) {
    const loaded = loadRecipeFile(file);
    const err = loaded.problems.find((p) => p.severity === 'error');
    recipe =
      loaded.recipe ??
      `recipe ${file} cannot be trusted or read now: ${err ? `${err.path.join('.') || '(file)'}: got ${err.found}` : 'invalid'}`;
    cache.set(file, recipe);
  }
  if (typeof recipe === 'string') return recipe;
  if (recipe.name !== e.recipe) return `recipe ${file} is now named ${recipe.name}, not ${e.recipe}`;
  const m = /^(.*)\/(\d+)\/(.*)$/s.exec(e.knob.id);
  const action = m && m[1] === recipe.name ? recipe.actions[Number(m[2])] : undefined;
  const hook = action?.name === 'pressure_backoff' ? (action.params as PressureBackoffParams).hook : undefined;
  if (!hook || m![3] !== e.target) return `recipe ${file} declares no hook for ${e.knob.id}`;
  const expected = hookKnob(recipe.name, action!.index, e.target, hook);
  if (expected.kind !== 'hook' || !same(expected.argv, e.knob.argv) || expected.timeoutMs !== e.knob.timeoutMs) {
    return `recipe ${file} declares another command for ${e.knob.id} (${expected.kind === 'hook' ? expected.argv.join(' ') : '?'}), not ${e.knob.argv.join(' ')}`;
  }
  return undefined;
}
