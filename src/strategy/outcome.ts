/**
 * What a recipe is for, read from one window: its objective (a value of the
 * protected entity, turned into a score where higher is better, optionally
 * smoothed by an EWMA) and its constraints (values of other entities that
 * must stay within limits). The entities are bound once, when the recipe
 * first acts: "target" is the entity the action changes, a detector name is
 * the entity that detector held behind that first step (so the victim stays
 * the victim after its detector clears).
 */
import { Ewma } from '../aggregate/ewma.js';
import { samplesOf, type SignalRecords } from '../detect/samples.js';
import type { ConstraintSpec, ObjectiveSpec, OfSpec, Recipe } from '../recipes/recipe.js';
import type { Evidence } from './strategy.js';

export interface Violation {
  signal: string;
  entity: string;
  value: number;
  op: 'at_least' | 'at_most';
  limit: number;
}

/** The entity key an `of` names, given the target and the evidence of the first step. */
export function bindOf(of: OfSpec, target: string, evidence: readonly Evidence[]): string | undefined {
  if (of.kind === 'target') return target;
  if (of.kind === 'scope') return 'scope';
  const e = evidence.find((x) => x.detector === of.detector);
  return e && e.entity !== '' ? e.entity : undefined;
}

/** The value of a signal for one entity in a window (scope-wide signals ignore the entity). */
export function valueFor(signal: string, entity: string, records: SignalRecords): number | undefined {
  const samples = samplesOf(signal, records);
  const s = samples.length === 1 && samples[0]!.entity.kind === 'scope' ? samples[0] : samples.find((x) => x.entity.key === entity);
  return s !== undefined && Number.isFinite(s.value) ? s.value : undefined;
}

export class Outcome {
  readonly objective: ObjectiveSpec | undefined;
  readonly constraints: readonly ConstraintSpec[];
  private objectiveEntity: string | undefined;
  private constraintEntities: Array<string | undefined> = [];
  private ewma: Ewma | undefined;
  bound = false;

  constructor(recipe: Pick<Recipe, 'objective' | 'constraints'>) {
    this.objective = recipe.objective;
    this.constraints = recipe.constraints;
  }

  /** Fix the entities from the first step's target and evidence. */
  bind(target: string, evidence: readonly Evidence[]): void {
    if (this.bound) return;
    this.bound = true;
    if (this.objective) this.objectiveEntity = bindOf(this.objective.of, target, evidence);
    this.constraintEntities = this.constraints.map((c) => bindOf(c.of, target, evidence));
    if (this.objective?.smooth) this.ewma = Ewma.fromHalfLife(this.objective.smooth);
  }

  get entity(): string | undefined {
    return this.objectiveEntity;
  }

  /** The objective's value this window (smoothed when asked), or undefined when there is none. */
  value(records: SignalRecords): number | undefined {
    if (!this.objective || this.objectiveEntity === undefined) return undefined;
    const v = valueFor(this.objective.signal, this.objectiveEntity, records);
    if (v === undefined) return undefined;
    return this.ewma ? this.ewma.update(v) : v;
  }

  /** A value -> score: higher is better. */
  score(value: number): number {
    return this.objective?.goal === 'raise' ? value : -value;
  }

  /** Constraints the window violates. */
  violations(records: SignalRecords): Violation[] {
    const out: Violation[] = [];
    this.constraints.forEach((c, i) => {
      const entity = this.constraintEntities[i];
      if (entity === undefined) return;
      const v = valueFor(c.signal, entity, records);
      if (v === undefined) return;
      if (c.op === 'at_least' ? v < c.limit : v > c.limit) out.push({ signal: c.signal, entity, value: v, op: c.op, limit: c.limit });
    });
    return out;
  }
}

export function violationText(v: readonly Violation[]): string {
  return v
    .map(
      (x) =>
        `${x.entity === 'scope' ? '' : `${x.entity} `}${x.signal} ${round(x.value)} ${x.op === 'at_least' ? '<' : '>'} ${x.limit} (constraint ${x.op.replace('_', ' ')} ${x.limit})`,
    )
    .join('; ');
}

export const round = (x: number): number => (Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000);
