/**
 * HeuristicStrategy: thresholded detectors with windows and hysteresis,
 * combined by all/any/not, then a cooldown. Like systemd-oomd, after acting
 * it pauses for the cooldown and re-evaluates on fresh windows only (the
 * condition must hold again for `for` windows that began after the change),
 * so it never stacks steps on a measurement of the old setting.
 *
 * With an objective, it does not stop at the clear thresholds: after each
 * step it compares the objective over the windows since the step with the
 * windows before it, and keeps stepping while it improves by more than the
 * objective's noise; it steps back once when it got worse by more than the
 * noise, and stops when it stays flat. (While the detectors hold, their
 * evidence decides; the objective judges the steps taken beyond them.)
 *
 * Constraints: a violation is the last step's doing only when it shows in
 * the first window after that step and the window before the step held.
 * Then it steps back one step and stays below that level; once the
 * constraint has held again for two windows it retries the level once (a
 * single window of outside load looks the same), and a second violation
 * there makes the ceiling final for this run. A violation at a level that
 * already held the constraint since the step, or one that was there before
 * the step, is outside load: no step back, and stepping goes on.
 */
import path from 'node:path';
import { evaluate, namesIn, positiveNames, renderCondition } from '../detect/condition.js';
import { ThresholdDetector, type EntityState } from '../detect/detector.js';
import { entityLabel, entityOf, type Entity } from '../detect/paths.js';
import type { Recipe, RecipeAction } from '../recipes/recipe.js';
import type { ScopeGuard } from '../scope/guard.js';
import { Outcome, round, violationText, type Violation } from './outcome.js';
import type { Evidence, Explanation, HeldTarget, Proposal, Strategy, Window } from './strategy.js';

const mean = (xs: readonly number[]): number | undefined => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

export class HeuristicStrategy implements Strategy {
  readonly kind = 'heuristic';
  readonly detectors = new Map<string, ThresholdDetector>();
  private streak = 0;
  private need = 1;
  private lastAction = -Infinity;
  private readonly maxFor: number;
  readonly outcome: Outcome;
  /** Steps taken minus steps back (of every action). */
  level = 0;
  /** No step beyond this level (set when a constraint was hit or a step made things worse). */
  private ceiling = Infinity;
  /** Objective values since the last change, and their mean before it. */
  private since: number[] = [];
  private before: number | undefined;
  /** The objective's mean over the windows before the last change. */
  get baseline(): number | undefined {
    return this.before;
  }
  /** Stepping on because the objective improves (after the detectors cleared). */
  private pursuing = false;
  private pending: string[] = [];
  /** A constraint was violated in the last window before the last change. */
  private violatedBefore = false;
  /** Windows since the last change that held every constraint, and whether every one of them did. */
  private clean = 0;
  private cleanSinceChange = true;
  /** The level stepped back from after a violation, to retry once the constraint holds again; levels already retried. */
  private retry: number | undefined;
  private retried = new Set<number>();
  private ceilingBeforeRetry = Infinity;
  /** The latest window's objective value and violations (for a strategy built on this one). */
  lastValue: number | undefined;
  lastViolations: Violation[] = [];
  private lastOutsideNote: number | undefined;

  constructor(
    private readonly recipe: Recipe,
    private readonly scope: ScopeGuard,
  ) {
    for (const d of recipe.detectors) this.detectors.set(d.name, new ThresholdDetector(d));
    this.maxFor = Math.max(1, ...recipe.detectors.map((d) => d.for));
    this.outcome = new Outcome(recipe);
  }

  /** Feed one window to the detectors and the objective; true when the recipe's condition holds. */
  update(w: Window): boolean {
    for (const d of this.detectors.values()) d.update(w.records);
    const trigger = evaluate(this.recipe.when, this.detectors);
    this.streak = trigger ? this.streak + 1 : 0;
    this.lastValue = this.outcome.bound ? this.outcome.value(w.records) : undefined;
    this.lastViolations = this.outcome.bound ? this.outcome.violations(w.records) : [];
    if (this.lastValue !== undefined) this.since.push(this.lastValue);
    return trigger;
  }

  observe(w: Window, held: readonly HeldTarget[]): Proposal[] {
    return this.decide(w, held, this.update(w));
  }

  /** Proposals for a window already fed with update(). */
  decide(w: Window, held: readonly HeldTarget[], trigger: boolean): Proposal[] {
    const cooled = w.ts - this.lastAction >= this.recipe.guards.cooldownMs;
    const out: Proposal[] = [];
    const violated = this.lastViolations.length > 0;
    // The last step's doing: the window before it held, and this is the first window after it.
    const ours = violated && held.length > 0 && !this.violatedBefore && this.cleanSinceChange && this.clean === 0;
    if (violated) this.cleanSinceChange = false;
    if (cooled && ours) {
      const again = this.retried.has(this.level);
      this.ceilingBeforeRetry = this.ceiling;
      this.ceiling = Math.min(this.ceiling, this.level - 1);
      this.retry = again ? undefined : this.level;
      this.pursuing = false;
      const text = again
        ? `heuristic: constraint hit again at the level it retried (${violationText(this.lastViolations)}): one step back, and no step past it again`
        : `heuristic: constraint hit (${violationText(this.lastViolations)}): one step back; retried once when it holds again`;
      return this.stepsBack(held, { strategy: 'heuristic', mode: 'constraint', level: this.level, text });
    }
    if (violated && held.length > 0 && !ours && this.clean > 0 && this.cleanSinceChange === false && this.lastOutsideNote !== this.level) {
      this.lastOutsideNote = this.level;
      this.pending.push(
        `heuristic: constraint violated (${violationText(this.lastViolations)}) at a level that held it for ${this.clean} window${this.clean === 1 ? '' : 's'} since the last step: outside load, no step back`,
      );
    }
    if (!violated) this.clean++;
    // Retry the level stepped back from, once, when the constraint has held again for two windows.
    if (cooled && this.retry !== undefined && this.level === this.retry - 1 && !violated && this.clean >= 2 && this.cleanSinceChange) {
      const level = this.retry;
      this.retried.add(level);
      this.retry = undefined;
      this.ceiling = this.ceilingBeforeRetry;
      const text = `heuristic: the constraint holds again (${this.clean} windows): level ${level} may be retried once, in case the violation there was outside load`;
      // Back at the original value nothing is held: the rules decide whether to step again.
      if (held.length === 0) this.pending.push(text);
      else
        return held.map((h) => ({
          kind: 'step' as const,
          action: h.action,
          target: h.entity,
          rule: 'constraint holds again',
          evidence: [],
          explain: { strategy: 'heuristic' as const, mode: 'constraint' as const, level: this.level, text },
        }));
    }
    const o = this.outcome;
    const now = mean(this.since);
    const gain = o.objective && now !== undefined && this.before !== undefined ? o.score(now) - o.score(this.before) : undefined;
    const what =
      gain !== undefined ? `${o.objective!.signal} of ${o.entity} went ${round(this.before!)} -> ${round(now!)} after the last step` : '';
    // While the detectors still hold, the rules go on (their own evidence says the victim still suffers);
    // the objective judges the steps taken beyond them, over at least two windows.
    const judged = cooled && this.pursuing && !trigger && gain !== undefined && this.since.length >= 2;
    const worse = judged && -gain! > o.objective!.noise;
    if (worse) {
      this.pursuing = false;
      this.ceiling = Math.min(this.ceiling, this.level - 1);
      // Targets whose own relax condition holds are relaxed by it below (a restore, say), not stepped back here.
      const back = held.filter((h) => !this.relaxes(h, trigger));
      if (back.length > 0)
        return this.stepsBack(back, {
          strategy: 'heuristic',
          mode: 'objective',
          expected_gain: -gain,
          level: this.level,
          text: `heuristic: the last step made the objective worse (${what}): one step back`,
        });
    }
    if (trigger && this.streak >= this.need && cooled && this.level < this.ceiling) {
      for (const a of this.recipe.actions) {
        for (const target of this.targets(a, held)) {
          const evidence = this.evidence(a, target);
          if (!o.bound && o.objective) {
            o.bind(target.key, evidence);
            const v = o.value(w.records);
            if (v !== undefined) this.since = [v];
            this.lastViolations = o.violations(w.records);
          }
          out.push({
            kind: 'step',
            action: a.index,
            target,
            rule: renderCondition(this.recipe.when),
            evidence,
            explain: {
              strategy: 'heuristic',
              mode: 'rule',
              level: this.level,
              text: `heuristic: ${renderCondition(this.recipe.when)} holds`,
            },
          });
        }
      }
      if (out.length > 0) return out;
    } else if (judged && !worse) {
      const noise = o.objective!.noise;
      if (gain > noise && this.level < this.ceiling) {
        const text = `heuristic: objective improving (${what}, better by more than the noise ${noise}): one more step`;
        // Not for a target whose own condition to give back holds: the objective improved because the others' load
        // went away, not by the step.
        for (const h of held.filter((x) => !this.givesBack(x.action, x.entity)))
          out.push({
            kind: 'step',
            action: h.action,
            target: h.entity,
            rule: 'objective improving',
            evidence: [],
            explain: { strategy: 'heuristic', mode: 'objective', expected_gain: gain, level: this.level, text },
          });
        if (out.length > 0) return out;
      } else {
        this.pursuing = false;
        this.pending.push(`heuristic: objective flat after the last step (${what}, within the noise ${noise}): holding here`);
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

  acted(p: Proposal, ts: number): void {
    this.lastAction = ts;
    this.streak = 0;
    this.need = this.maxFor;
    this.level += p.kind === 'step' ? 1 : -1;
    this.violatedBefore = this.lastViolations.length > 0;
    this.clean = 0;
    this.cleanSinceChange = true;
    this.before = mean(this.since);
    this.since = [];
    this.pursuing = p.kind === 'step' && this.outcome.objective !== undefined;
  }

  /**
   * A step the objective asked for was not taken (the knob at its bound, a refused write): the pursuit ends there,
   * so a step that cannot happen does not stand in the way of a relax window after window.
   */
  declined(p: Proposal): void {
    if (p.kind !== 'step' || !this.pursuing) return;
    this.pursuing = false;
    this.pending.push(`heuristic: the step the objective asked for was not taken: holding here`);
  }

  notices(): string[] {
    return this.pending.splice(0);
  }

  /** The action's relax condition holds for a held target. */
  private relaxes(h: HeldTarget, trigger: boolean): boolean {
    const a = this.recipe.actions.find((x) => x.index === h.action);
    if (!a || a.relax === 'hold') return false;
    return a.relaxWhen !== undefined ? evaluate(a.relaxWhen, this.detectors, h.entity) : !trigger;
  }

  /** The action has its own relax condition (`relax_when`), and it holds for this target. */
  givesBack(action: number, entity: Entity): boolean {
    const a = this.recipe.actions.find((x) => x.index === action);
    return a?.relaxWhen !== undefined && this.relaxes({ action, entity }, true);
  }

  /** One step back on every held target. */
  private stepsBack(held: readonly HeldTarget[], explain: Explanation): Proposal[] {
    return held.map((h) => ({
      kind: 'relax' as const,
      stepBack: true,
      action: h.action,
      target: h.entity,
      rule: explain.mode,
      evidence: [],
      explain,
    }));
  }

  /**
   * The entities an action targets now: the scope, or a detector's active entities in scope (most extreme first).
   * A `sibling_of` entity whose knob this run holds changed is not a victim to act for: its state is the run's own
   * doing (a hog lowered far enough waits on the run queue in turn, and its sibling, the victim the run protects,
   * then holds most of the CPU; acting for the hog would lower the victim).
   */
  private targets(a: RecipeAction, held: readonly HeldTarget[] = []): Entity[] {
    if (a.target.kind === 'scope') return [{ kind: 'scope', key: this.scope.cgroup ?? 'pids' }];
    const d = this.detectors.get(a.target.detector);
    if (!d) return [];
    let active = d.active().filter((s) => this.scope.allows(s.entity));
    if (a.target.siblingOf !== undefined) {
      const others = (this.detectors.get(a.target.siblingOf)?.active() ?? []).filter(
        (o) => !held.some((h) => sameEntity(h.entity, o.entity)),
      );
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
    for (const n of [t?.detector, ...(t?.also ?? []), ...(cond !== this.recipe.when ? namesIn(cond) : [])])
      if (n !== undefined && !names.includes(n)) names.push(n);
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
        // A burst detector's threshold moves with its baseline: the one in force for this entity.
        threshold: st?.threshold ?? d.spec.threshold,
        clear: d.spec.burst ? (st?.threshold ?? d.spec.clear) : d.spec.clear,
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
