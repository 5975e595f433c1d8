/**
 * Schema pieces shared by the recipe schema and the actions' parameter
 * schemas. Every field carries its own "expected ..." text, so an error can
 * say what was expected in words (see problems.ts).
 */
import { z } from 'zod';

export const DURATION_RE = /^\d+(?:\.\d+)?(?:ms|s|m|h)$/;
const DURATION_TEXT = 'a duration like "500ms", "5s" or "2m"';

/** "5s" -> 5000. Only called on strings the schema accepted. */
export function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text)!;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

export const duration = z.string({ error: DURATION_TEXT }).regex(DURATION_RE, { error: DURATION_TEXT });

/** A number (whole when `int`) from min to max, with one message for every way it can be wrong. */
export function num(min: number, max: number, int = false) {
  const text = `${int ? 'a whole number' : 'a number'} from ${min} to ${max}`;
  const base = int ? z.int({ error: text }) : z.number({ error: text });
  return base.min(min, { error: text }).max(max, { error: text });
}

export const NAME_RE = /^[a-z][a-z0-9_-]{0,62}$/;
const NAME_TEXT = 'a name of lower-case letters, digits, "-" and "_", starting with a letter';
export const name = z.string({ error: NAME_TEXT }).regex(NAME_RE, { error: NAME_TEXT });

export type Condition = string | { all: Condition[] } | { any: Condition[] } | { not: Condition };

const CONDITION_TEXT = 'a detector name, or {all: [...]}, {any: [...]} or {not: ...} of detector names';
export const condition: z.ZodType<Condition> = z
  .lazy(() =>
    z.union(
      [
        name,
        z.strictObject({
          all: z.array(condition, { error: 'a list of conditions' }).min(1, { error: 'a list of at least one condition' }),
        }),
        z.strictObject({
          any: z.array(condition, { error: 'a list of conditions' }).min(1, { error: 'a list of at least one condition' }),
        }),
        z.strictObject({ not: condition }),
      ],
      { error: CONDITION_TEXT },
    ),
  )
  .meta({ id: 'condition', description: 'Detectors combined: a name, {all: [...]}, {any: [...]} or {not: ...}' });

const TARGET_TEXT = '"scope", a detector name, or {detector: NAME, sibling_of: NAME, also: [NAME...]}';
export const target = z
  .union(
    [
      z.literal('scope'),
      name,
      z.strictObject({
        detector: name,
        sibling_of: name
          .optional()
          .meta({ description: 'only entities that share a parent cgroup with an active entity of this detector' }),
        also: z
          .array(name, { error: 'a list of detector names' })
          .min(1, { error: 'a list of at least one detector name' })
          .optional()
          .meta({ description: 'only entities these detectors (about the same kind of entity) hold active too' }),
      }),
    ],
    { error: TARGET_TEXT },
  )
  .meta({
    description: 'What the action changes: the scope itself, or the entities (cgroups, processes, devices) a detector holds active',
  });

export const RELAX = ['hold', 'step', 'restore'] as const;
export type Relax = (typeof RELAX)[number];

/** Fields every action has. */
export const actionCommon = {
  target,
  relax: z.enum(RELAX, { error: 'one of "hold", "step" or "restore"' }).optional().meta({
    description: 'When the trigger clears: hold the change, step back toward the original, or restore it (default depends on the action)',
  }),
  relax_when: condition.optional().meta({ description: 'When to relax (default: the trigger condition no longer holds)' }),
  description: z.string().optional(),
};
