/** `tuner validate <recipe...>`: check recipe files without running them (exit 2 on any error). */
import { loadRecipes } from '../recipes/load.js';
import { formatProblem } from '../recipes/problems.js';
import { renderCondition } from '../detect/condition.js';
import type { OfSpec } from '../recipes/recipe.js';
import { line, type CommandSpec } from './spec.js';

const ofText = (o: OfSpec): string => (o.kind === 'detector' ? `the entity of ${o.detector}` : `the ${o.kind}`);

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
      signals: [
        ...r.detectors.map(
          (d) =>
            `${d.name}: ${d.signal} ${d.burst ? `burst (${d.burst.k} sd, +${d.burst.minRise * 100}% over its baseline)` : `${d.op} ${d.threshold} (clear ${d.clear})`}${d.smooth ? ` smoothed (half-life ${d.smooth})` : ''} for ${d.for}`,
        ),
        ...(r.objective
          ? [
              `objective: ${r.objective.goal} ${r.objective.signal} of ${ofText(r.objective.of)} (noise ${r.objective.noise}); strategy ${r.strategy}`,
            ]
          : []),
        ...r.constraints.map((c) => `constraint: ${c.signal} of ${ofText(c.of)} ${c.op.replace('_', ' ')} ${c.limit}`),
      ],
      when: renderCondition(r.when),
      actions: r.actions.map((a) => a.name),
      warnings: warnings.filter((w) => w.file === r.file).map((w) => formatProblem(w.file, w.problem)),
    })),
  };
}

export const command: CommandSpec<string[], ValidateResult> = {
  options: ([files]) => files as string[],
  run: validate,
  output: { indent: 2, view: async () => line((await import('../output/run-view.js')).renderValidate) },
};
