/**
 * Detector combinators: a detector name, `{all: [...]}`, `{any: [...]}` or
 * `{not: ...}`, nested freely. A name holds when its detector has an active
 * entity; evaluated for one entity (relaxing a knob of that entity), a name
 * whose detector is about entities of the same kind holds when that very
 * entity is active (a scope-wide detector is the scope's, whichever name the
 * scope target has).
 */
import type { ThresholdDetector } from './detector.js';
import { entityOf, type Entity } from './paths.js';

export type Condition = string | { all: Condition[] } | { any: Condition[] } | { not: Condition };

export function evaluate(c: Condition, detectors: ReadonlyMap<string, ThresholdDetector>, entity?: Entity): boolean {
  if (typeof c === 'string') {
    const d = detectors.get(c);
    if (!d) return false;
    const kind = entityOf(d.spec.signal);
    // A scope-wide detector has one state, whatever the scope target's name.
    if (entity && kind === entity.kind && kind !== 'scope') return d.isActive(entity);
    return d.active().length > 0;
  }
  if ('all' in c) return c.all.every((x) => evaluate(x, detectors, entity));
  if ('any' in c) return c.any.some((x) => evaluate(x, detectors, entity));
  return !evaluate(c.not, detectors, entity);
}

/** Every detector name the condition mentions. */
export function namesIn(c: Condition): string[] {
  if (typeof c === 'string') return [c];
  if ('all' in c) return [...new Set(c.all.flatMap(namesIn))];
  if ('any' in c) return [...new Set(c.any.flatMap(namesIn))];
  return namesIn(c.not);
}

/** Names not under a `not`: the detectors whose evidence justifies an action. */
export function positiveNames(c: Condition): string[] {
  if (typeof c === 'string') return [c];
  if ('all' in c) return [...new Set(c.all.flatMap(positiveNames))];
  if ('any' in c) return [...new Set(c.any.flatMap(positiveNames))];
  return [];
}

/** "starved and dominant", "not (a or b)". */
export function renderCondition(c: Condition): string {
  if (typeof c === 'string') return c;
  const wrap = (x: Condition): string => (typeof x === 'string' || 'not' in x ? renderCondition(x) : `(${renderCondition(x)})`);
  if ('all' in c) return c.all.map(wrap).join(' and ');
  if ('any' in c) return c.any.map(wrap).join(' or ');
  return `not ${wrap(c.not)}`;
}
