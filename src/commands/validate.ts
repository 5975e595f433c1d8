/** `tuner validate <recipe...>`: check recipe files without running them (exit 2 on any error). */
import { loadRecipes } from '../recipes/load.js';
import { formatProblem } from '../recipes/problems.js';
import { renderCondition } from '../detect/condition.js';

export interface ValidateResult {
  recipes: Array<{
    file: string;
    name: string;
    signals: string[];
    when: string;
    actions: string[];
    warnings: string[];
  }>;
}

export async function validate(files: readonly string[]): Promise<ValidateResult> {
  const { recipes, warnings } = loadRecipes(files);
  return {
    recipes: recipes.map((r) => ({
      file: r.file,
      name: r.name,
      signals: r.detectors.map((d) => `${d.name}: ${d.signal} ${d.op} ${d.threshold} (clear ${d.clear}) for ${d.for}`),
      when: renderCondition(r.when),
      actions: r.actions.map((a) => a.name),
      warnings: warnings.filter((w) => w.file === r.file).map((w) => formatProblem(w.file, w.problem)),
    })),
  };
}
