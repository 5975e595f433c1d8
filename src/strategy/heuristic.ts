/**
 * HeuristicStrategy: thresholded detectors with windows and hysteresis,
 * combined by all/any/not, then a cooldown. Like systemd-oomd, after acting
 * it pauses for the cooldown and re-evaluates on fresh windows only (the
 * condition must hold again for `for` windows that began after the change),
 * so it never stacks steps on a measurement of the old setting.
 */
import path from 'node:path';
import { evaluate, namesIn, positiveNames, renderCondition } from '../detect/condition.js';
import { ThresholdDetector, type EntityState } from '../detect/detector.js';
import { entityLabel, entityOf, type Entity } from '../detect/paths.js';
import type { Recipe, RecipeAction } from '../recipes/recipe.js';
import type { ScopeGuard } from '../scope/guard.js';
import type { Evidence, HeldTarget, Proposal, Strategy, Window } from './strategy.js';

export class HeuristicStrategy implements Strategy {
  readonly kind = 'heuristic';
  readonly detectors = new Map<string, ThresholdDetector>();
  private streak = 0;
  private need = 1;
  private lastAction = -Infinity;
  private readonly maxFor: number;

  constructor(
    private readonly recipe: Recipe,
    private readonly scope: ScopeGuard,
  ) {
    for (const d of recipe.detectors) this.detectors.set(d.name, new ThresholdDetector(d));
    this.maxFor = Math.max(1, ...recipe.detectors.map((d) => d.for));
  }

  observe(w: Window, held: readonly HeldTarget[]): Proposal[] {
    for (const d of this.detectors.values()) d.update(w.records);
    const trigger = evaluate(this.recipe.when, this.detectors);
    this.streak = trigger ? this.streak + 1 : 0;
    const cooled = w.ts - this.lastAction >= this.recipe.guards.cooldownMs;
    const out: Proposal[] = [];
    if (trigger && this.streak >= this.need && cooled) {
      for (const a of this.recipe.actions) {
        for (const target of this.targets(a)) out.push({ kind: 'step', action: a.index, target, rule: renderCondition(this.recipe.when), evidence: this.evidence(a, target) });
      }
    }
    if (cooled) {
      for (const h of held) {
        const a = this.recipe.actions.find((x) => x.index === h.action);
        if (!a || a.relax === 'hold' || out.some((p) => p.action === h.action && sameEntity(p.target, h.entity))) continue;
        const relax = a.relaxWhen !== undefined ? evaluate(a.relaxWhen, this.detectors, h.entity) : !trigger;
        if (!relax) continue;
        const rule = a.relaxWhen !== undefined ? renderCondition(a.relaxWhen) : `not (${renderCondition(this.recipe.when)})`;
        out.push({ kind: 'relax', action: h.action, target: h.entity, rule, evidence: this.evidence(a, h.entity, a.relaxWhen) });
      }
    }
    return out;
  }

  acted(_p: Proposal, ts: number): void {
    this.lastAction = ts;
    this.streak = 0;
    this.need = this.maxFor;
  }

  /** The entities an action targets now: the scope, or a detector's active entities in scope (most extreme first). */
  private targets(a: RecipeAction): Entity[] {
    if (a.target.kind === 'scope') return [{ kind: 'scope', key: this.scope.cgroup ?? 'pids' }];
    const d = this.detectors.get(a.target.detector);
    if (!d) return [];
    let active = d.active().filter((s) => this.scope.allows(s.entity));
    if (a.target.siblingOf !== undefined) {
      const others = this.detectors.get(a.target.siblingOf)?.active() ?? [];
      active = active.filter((s) => others.some((o) => o.entity.key !== s.entity.key && isSibling(o.entity.key, s.entity.key)));
    }
    for (const name of a.target.also ?? []) {
      const other = this.detectors.get(name);
      active = active.filter((s) => other?.isActive(s.entity) ?? false);
    }
    const sign = d.spec.op === 'above' ? -1 : 1;
    return active.sort((x, y) => sign * ((x.value ?? 0) - (y.value ?? 0))).map((s) => s.entity);
  }

  /**
   * The values behind a proposal, one per detector: the target's own value for
   * the detector that chose it (and `also` filters), a sibling's for
   * `sibling_of`, the scope's for scope-wide signals, and otherwise the target's
   * when it is active there, else the most extreme active entity.
   */
  private evidence(a: RecipeAction, target: Entity, cond = this.recipe.when): Evidence[] {
    const names = positiveNames(cond);
    const t = a.target.kind === 'detector' ? a.target : undefined;
    for (const n of [t?.detector, ...(t?.also ?? []), ...(cond !== this.recipe.when ? namesIn(cond) : [])]) if (n !== undefined && !names.includes(n)) names.push(n);
    const out: Evidence[] = [];
    for (const name of names) {
      const d = this.detectors.get(name);
      if (!d) continue;
      const kind = entityOf(d.spec.signal);
      let entity: Entity | undefined;
      if (kind === 'scope') entity = { kind: 'scope', key: 'scope' };
      else if (t?.siblingOf === name) entity = this.mostExtreme(d, (e) => e.key !== target.key && isSibling(e.key, target.key))?.entity;
      else if (t?.detector === name || t?.also?.includes(name) || d.isActive(target)) entity = target;
      else entity = this.mostExtreme(d)?.entity ?? (kind === target.kind ? target : undefined);
      const st = entity ? d.state(entity) : undefined;
      const value = entity ? d.valueOf(entity) : undefined;
      out.push({
        detector: name,
        signal: d.spec.signal,
        entity: entity?.key ?? '',
        label: entity ? entityLabel(entity) : `no ${kind}`,
        value: value ?? null,
        op: d.spec.op,
        threshold: d.spec.threshold,
        clear: d.spec.clear,
        windows: st?.active ? st.heldWindows : 0,
        active: st?.active ?? false,
      });
    }
    return out;
  }

  private mostExtreme(d: ThresholdDetector, keep: (e: Entity) => boolean = () => true): EntityState | undefined {
    const sign = d.spec.op === 'above' ? -1 : 1;
    return d
      .active()
      .filter((s) => keep(s.entity))
      .sort((x, y) => sign * ((x.value ?? 0) - (y.value ?? 0)))[0];
  }
}

function sameEntity(a: Entity, b: Entity): boolean {
  return a.kind === b.kind && a.key === b.key;
}

/** Two cgroups with the same parent. */
export function isSibling(a: string, b: string): boolean {
  return a !== b && a.startsWith('/') && b.startsWith('/') && path.posix.dirname(a) === path.posix.dirname(b);
}
