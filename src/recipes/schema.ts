/**
 * The recipe format: one zod schema, the single source of truth. Parsing,
 * the editor schema (recipes/schema.json, via json-schema.ts) and the
 * README all follow it. Objects are strict: an unknown key is an error, so
 * a typo cannot silently drop a guard.
 */
import { z } from 'zod';
import { ACTIONS } from '../actions/registry.js';
import { SIGNAL_PATH_NAMES } from '../detect/paths.js';
import { condition, duration, name, num } from './fields.js';

export const detectorSchema = z
  .strictObject({
    signal: z
      .enum(SIGNAL_PATH_NAMES, { error: 'a signal path such as "sched.cgroups.wait_share" or "psi.cpu.some_avg10" (README lists them)' })
      .meta({
        description: 'the value to watch, one per entity for per-collection paths',
      }),
    above: z.number({ error: 'a number' }).optional().meta({ description: 'trigger when the value is above this' }),
    burst: z
      .strictObject({
        k: num(0.5, 100).optional().meta({ description: 'standard deviations above the moving baseline (default 4)' }),
        min_rise: num(0, 100).optional().meta({ description: 'least relative rise over the baseline, 0.5 = +50% (default 0.5)' }),
        half_life: num(1, 1000, true)
          .optional()
          .meta({ description: 'windows over which the baseline forgets half its memory (default 10)' }),
      })
      .optional()
      .meta({ description: 'trigger on a burst: the value jumps above its own moving baseline (instead of a fixed above/below)' }),
    smooth: num(1, 1000, true)
      .optional()
      .meta({ description: 'compare an exponentially weighted moving average with this half-life in windows, not the raw value' }),
    below: z.number({ error: 'a number' }).optional().meta({ description: 'trigger when the value is below this' }),
    clear: z
      .number({ error: 'a number' })
      .optional()
      .meta({ description: 'hysteresis: clear only once the value is back past this (default: the trigger threshold)' }),
    for: num(1, 1000, true).optional().meta({ description: 'windows in a row the value must be past the trigger threshold (default 1)' }),
    clear_for: num(1, 1000, true).optional().meta({ description: 'windows in a row past the clear threshold to clear (default 1)' }),
    description: z.string().optional(),
  })
  .meta({ description: 'A threshold on a signal, held for some windows, with a separate clear threshold' });

export const guardsSchema = z
  .strictObject({
    cooldown: duration
      .optional()
      .meta({ description: 'after a change, leave the knob (and the recipe) alone this long, then re-evaluate (default 30s)' }),
    max_changes_per_hour: num(1, 3600, true)
      .optional()
      .meta({ description: 'at most this many changes by this recipe in any hour (default 20)' }),
    revert_on_exit: z
      .boolean({ error: 'true or false' })
      .optional()
      .meta({ description: 'put every knob back when tuner exits (default true)' }),
  })
  .meta({ description: 'Limits on how often and how much the recipe changes things' });

const signal = z.enum(SIGNAL_PATH_NAMES, {
  error: 'a signal path such as "sched.cgroups.wait_share" or "psi.cpu.some_avg10" (README lists them)',
});
const OF_TEXT =
  '"target" (the entity the action changes), "scope", or a detector name (the entity it held active when the recipe first acted)';
const of = z.union([z.literal('target'), z.literal('scope'), name], { error: OF_TEXT }).meta({ description: OF_TEXT });

export const objectiveSchema = z
  .strictObject({
    signal: signal.meta({ description: 'the value of the protected entity that the recipe is for' }),
    of: of.optional().meta({ description: `whose value: ${OF_TEXT} (default "target")` }),
    goal: z.enum(['lower', 'raise'], { error: 'one of "lower" or "raise"' }).meta({ description: 'lower or raise the value' }),
    noise: z
      .number({ error: 'a number' })
      .min(0, { error: 'a number from 0 up' })
      .meta({ description: 'changes of the value smaller than this are noise, in its unit (one window to the next)' }),
    smooth: num(1, 1000, true).optional().meta({
      description: 'judge an exponentially weighted moving average with this half-life in windows (default: each window as measured)',
    }),
    description: z.string().optional(),
  })
  .meta({ description: 'What the recipe is for: keep acting while this improves, step back when it gets worse' });

export const constraintSchema = z
  .strictObject({
    signal: signal.meta({ description: 'a value of another entity to keep within a limit' }),
    of: of.optional().meta({ description: `whose value (default "target")` }),
    at_least: z.number({ error: 'a number' }).optional().meta({ description: 'the value must stay at or above this' }),
    at_most: z.number({ error: 'a number' }).optional().meta({ description: 'the value must stay at or below this' }),
    description: z.string().optional(),
  })
  .meta({ description: 'A limit the recipe must not push another entity past: when it is hit, the recipe steps back and stops' });

const actionSchemas = Object.values(ACTIONS).map((a) => a.schema) as unknown as [z.ZodObject, ...z.ZodObject[]];

export const actionSchema = z.discriminatedUnion('action', actionSchemas, {
  error: `an action: one of ${Object.keys(ACTIONS).join(', ')}`,
});

const PID_TEXT = 'a process ID (a whole number from 1 to 4194304)';

export const recipeSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'the JSON schema, for editors' }),
    name: name.meta({ description: "the recipe's name, used in logs and the journal" }),
    description: z.string({ error: 'a description of what the recipe is for' }).min(1, { error: 'a non-empty description' }),
    scope: z
      .strictObject({
        cgroup: z
          .string({ error: 'a cgroup path' })
          .min(1, { error: 'a cgroup path' })
          .optional()
          .meta({ description: 'a cgroup subtree: absolute, or relative to the cgroup root (--cgroup overrides)' }),
        pids: z
          .array(num(1, 4_194_304, true).meta({ description: PID_TEXT }), { error: 'a list of process IDs' })
          .min(1, { error: 'a list of at least one process ID' })
          .optional()
          .meta({ description: 'a PID set (--pid overrides)' }),
      })
      .optional()
      .meta({ description: 'What the recipe may observe and change; nothing outside it is ever touched' }),
    interval: duration.optional().meta({ description: 'length of one window (default 1s)' }),
    duration: duration.optional().meta({ description: 'how long `tuner run` lasts without --watch or --duration (default 1m)' }),
    detectors: z.record(name, detectorSchema, { error: 'a mapping of detector names to detectors' }),
    objective: objectiveSchema.optional(),
    constraints: z
      .array(constraintSchema, { error: 'a list of constraints' })
      .optional()
      .meta({ description: 'limits on other entities (requires an objective)' }),
    strategy: z.enum(['heuristic', 'learned'], { error: 'one of "heuristic" or "learned"' }).optional().meta({
      description: "how to decide: thresholded rules (default), or an online learner over the action's steps (--strategy overrides)",
    }),
    when: condition.optional().meta({ description: 'when to act (default: all detectors at once)' }),
    actions: z.array(actionSchema, { error: 'a list of actions' }).min(1, { error: 'a list of at least one action' }),
    guards: guardsSchema.optional(),
    apply: z.boolean({ error: 'true or false' }).optional().meta({
      description: '`tuner agent` acts on this recipe when true (default false: audit only); `tuner run` ignores it (--apply decides)',
    }),
  })
  .meta({ title: 'tuner recipe', description: 'A tuner recipe: detectors on live signals trigger bounded, journaled, reverted actions' });

export type RecipeInput = z.infer<typeof recipeSchema>;
export type DetectorInput = z.infer<typeof detectorSchema>;
export type ObjectiveInput = z.infer<typeof objectiveSchema>;
export type ConstraintInput = z.infer<typeof constraintSchema>;
