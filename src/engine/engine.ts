/**
 * One recipe at work: each window, check that nobody else changed the knobs
 * tuner holds (yield if so), ask the strategy for proposals, let the action
 * plan bounded changes, pass them through the guards (scope, bounds,
 * cooldown, hourly budget, claims), journal the original, then write. At
 * the end, put every held knob back (unless the recipe says not to).
 */
import { fillReason, type ActionContext, type PlannedChange, type ScopeTarget } from '../actions/action.js';
import { entityLabel, type Entity } from '../detect/paths.js';
import type { HostView } from '../host/host.js';
import type { Journal } from '../journal/journal.js';
import { KnobGone, knobId, knobLabel, type KnobIo, type KnobRef } from '../knobs/knob.js';
import { KnobRefused } from '../knobs/refused.js';
import { messageOf } from '../errors.js';
import type { Recipe, RecipeAction } from '../recipes/recipe.js';
import type { ScopeGuard } from '../scope/guard.js';
import { evidenceText, type Evidence, type Proposal, type Strategy, type Window } from '../strategy/strategy.js';
import type { DecisionEvent, EvidenceRecord, Mode, RunEvent, SummaryEvent } from './events.js';
import { boundsRefusal, cooldownRefusal, HourlyBudget, relaxRefusal } from './guards.js';

interface Held {
  knob: KnobRef;
  id: string;
  action: RecipeAction;
  entity: Entity;
  scopeTarget: ScopeTarget;
  original: string;
  last: string;
  /** A write that timed out or failed: the knob may hold either value. */
  uncertain?: string;
  lastChange: number;
}

export interface EngineOptions {
  recipe: Recipe;
  strategy: Strategy;
  host: HostView;
  io: KnobIo;
  scope: ScopeGuard;
  mode: Mode;
  /** Apply mode only. */
  journal?: Journal;
  /** Knob ids owned by other recipes of this run or other running tuners. */
  claims: Map<string, string>;
  /** Test hook: pause between journaling and writing (kill -9 tests). */
  pauseMs?: number;
}

const iso = (ts: number): string => new Date(ts).toISOString();

function evidenceRecords(ev: readonly Evidence[]): Record<string, EvidenceRecord> {
  return Object.fromEntries(
    ev.map((e) => [
      e.detector,
      { signal: e.signal, entity: e.entity, value: e.value, [e.op]: e.threshold, clear: e.clear, windows: e.windows, active: e.active },
    ]),
  );
}

export class Engine {
  private held: Held[] = [];
  private budget: HourlyBudget;
  private lastSkip = new Map<string, string>();
  /** Knobs someone else changed after tuner set them: never touched again in this run. */
  private yielded = new Map<string, string>();
  /**
   * Writes the kernel refused: by knob id and the value it held when it rejects the new value (EINVAL, ERANGE: a
   * change from there, whatever size a step computes from what the target used, is not tried again), by knob id
   * alone when it refuses any write (EPERM, EACCES, EROFS); not tried again in this run.
   */
  private refusedWrites = new Map<string, string>();
  readonly changes: SummaryEvent['recipes'][number]['changes'] = [];
  firstChange: number | undefined;

  constructor(private readonly o: EngineOptions) {
    this.budget = new HourlyBudget(o.recipe.guards.maxChangesPerHour);
  }

  get recipe(): Recipe {
    return this.o.recipe;
  }

  /** Knob ids this engine holds changed. */
  heldIds(): string[] {
    return this.held.map((h) => h.id);
  }

  async tick(w: Window): Promise<RunEvent[]> {
    const out: RunEvent[] = [];
    await this.checkYields(w.ts, out);
    const proposals = this.o.strategy.observe(
      w,
      this.held.map((h) => ({ action: h.action.index, entity: h.entity, original: h.original })),
    );
    for (const m of this.o.strategy.notices?.() ?? []) out.push({ type: 'notice', ts: iso(w.ts), recipe: this.recipe.name, message: m });
    for (const p of proposals) await this.handle(p, w, out);
    return out;
  }

  private async checkYields(ts: number, out: RunEvent[]): Promise<void> {
    for (const h of [...this.held]) {
      let cur: string;
      try {
        cur = await this.o.io.read(h.knob);
      } catch (err) {
        if (!(err instanceof KnobGone)) continue;
        this.drop(h);
        out.push({
          type: 'notice',
          ts: iso(ts),
          recipe: this.recipe.name,
          message: `${err.message.startsWith(knobLabel(h.knob)) ? err.message : `${knobLabel(h.knob)} is gone (${err.message})`}; nothing to restore`,
        });
        continue;
      }
      if (cur === h.last || cur === h.uncertain) {
        h.last = cur;
        delete h.uncertain;
        continue;
      }
      this.drop(h);
      this.yielded.set(h.id, `${iso(ts)}: ${h.last} -> ${cur}`);
      out.push({
        type: 'yield',
        ts: iso(ts),
        recipe: this.recipe.name,
        action: h.action.name,
        target: h.entity.key,
        knob: knobLabel(h.knob),
        expected: h.last,
        found: cur,
        reason: `someone else changed ${knobLabel(h.knob)} from ${h.last} to ${cur}: tuner yields and will not touch or restore it`,
      });
    }
  }

  private drop(h: Held): void {
    this.held = this.held.filter((x) => x !== h);
    this.o.claims.delete(h.id);
    this.o.journal?.forget(h.knob);
  }

  private skip(out: RunEvent[], ts: number, a: RecipeAction, target: string, reason: string): void {
    const key = `${a.index}/${target}`;
    if (this.lastSkip.get(key) === reason) return;
    this.lastSkip.set(key, reason);
    out.push({ type: 'skip', ts: iso(ts), recipe: this.recipe.name, action: a.name, target, reason });
  }

  private async plan(p: Proposal, a: RecipeAction, w: Window): Promise<{ changes: PlannedChange[] } | { skip: string }> {
    const mine = this.held.filter((h) => h.action.index === a.index);
    if (p.kind === 'relax' && a.relax === 'restore' && !p.stepBack) {
      const changes = mine
        .filter((h) => h.entity.kind === p.target.kind && h.entity.key === p.target.key)
        .map((h): PlannedChange => ({
          knob: h.knob,
          old: h.last,
          new: h.original,
          scopeTarget: h.scopeTarget,
          detail: `restore ${h.last} -> ${h.original}`,
        }));
      return changes.length > 0 ? { changes } : { skip: 'nothing to restore' };
    }
    const ctx: ActionContext = {
      host: this.o.host,
      io: this.o.io,
      recipe: this.recipe.name,
      actionIndex: a.index,
      scopeCgroup: this.o.scope.pids ? undefined : this.o.scope.cgroup,
      scopePids: this.o.scope.pids ? [...this.o.scope.pids] : undefined,
      held: mine.map((h) => ({ knob: h.knob, original: h.original, last: h.last, entity: h.entity })),
      window: w.records,
    };
    return a.def.plan(ctx, a.params, p.target, p.kind);
  }

  private async handle(p: Proposal, w: Window, out: RunEvent[]): Promise<void> {
    const ts = w.ts;
    const a = this.recipe.actions.find((x) => x.index === p.action);
    if (!a) return;
    let plan;
    try {
      plan = await this.plan(p, a, w);
    } catch (err) {
      out.push({ type: 'error', ts: iso(ts), recipe: this.recipe.name, action: a.name, target: p.target.key, message: messageOf(err) });
      this.o.strategy.declined?.(p, ts);
      return;
    }
    if ('skip' in plan) {
      this.o.strategy.declined?.(p, ts);
      return this.skip(out, ts, a, p.target.key, plan.skip);
    }
    let acted = false;
    for (const c of plan.changes) if (await this.change(p, a, c, ts, out)) acted = true;
    if (acted) {
      this.lastSkip.delete(`${a.index}/${p.target.key}`);
      this.o.strategy.acted(p, ts);
    } else this.o.strategy.declined?.(p, ts);
  }

  /** Guards, journal, write; true when the knob changed (or would have, in audit/replay). */
  private async change(p: Proposal, a: RecipeAction, c: PlannedChange, ts: number, out: RunEvent[]): Promise<boolean> {
    const id = knobId(c.knob);
    const label = knobLabel(c.knob);
    const held = this.held.find((h) => h.id === id);
    const refuse = (reason: string): false => {
      out.push({ type: 'refused', ts: iso(ts), recipe: this.recipe.name, action: a.name, target: p.target.key, knob: label, reason });
      return false;
    };
    const scopeWhy = this.o.scope.refuse(c.scopeTarget);
    if (scopeWhy) return refuse(scopeWhy);
    const yielded = this.yielded.get(id);
    if (yielded !== undefined) {
      this.skip(out, ts, a, p.target.key, `${label}: yielded to someone else's change (${yielded}); tuner leaves it alone`);
      return false;
    }
    const claimed = this.o.claims.get(id);
    if (claimed !== undefined && claimed !== this.recipe.name) return refuse(`${label} is held by ${claimed}`);
    if (p.kind === 'step') {
      const why = boundsRefusal(c.value ?? Number(c.new), c.bounds);
      if (why) return refuse(why);
    } else {
      const why = held ? relaxRefusal(c.old, c.new, held.original) : `${label} was not changed by ${this.recipe.name}`;
      if (why) return refuse(why);
    }
    const wait = cooldownRefusal(held?.lastChange, ts, this.recipe.guards.cooldownMs) ?? this.budget.refusal(ts);
    if (wait) {
      this.skip(out, ts, a, p.target.key, `${label}: ${wait}`);
      return false;
    }
    const original = held?.original ?? c.old;
    const refusal = this.refusedWrites.get(id) ?? this.refusedWrites.get(`${id}@${c.old}`);
    if (refusal !== undefined) {
      this.skip(out, ts, a, p.target.key, `${label}: ${refusal}; not tried again in this run`);
      return false;
    }
    let actual = c.new;
    if (this.o.mode === 'apply') {
      this.o.journal!.record(c.knob, original, c.new, {
        recipe: this.recipe.name,
        recipeFile: this.recipe.file,
        action: a.name,
        target: p.target.key,
      });
      if (this.o.pauseMs) await new Promise((r) => setTimeout(r, this.o.pauseMs));
      try {
        await this.o.io.write(c.knob, c.new);
        actual = await this.o.io.read(c.knob);
        this.o.journal!.confirm(c.knob, actual);
      } catch (err) {
        out.push({
          type: 'error',
          ts: iso(ts),
          recipe: this.recipe.name,
          action: a.name,
          target: p.target.key,
          knob: label,
          message: messageOf(err),
        });
        if (err instanceof KnobGone) this.o.journal!.forget(c.knob);
        else if ((await this.readOrUndefined(c.knob)) === original) {
          // The write was refused and the knob still holds its original: nothing to hold or restore.
          if (err instanceof KnobRefused)
            this.refusedWrites.set(
              err.errno === 'EINVAL' || err.errno === 'ERANGE' ? `${id}@${c.old}` : id,
              `the kernel refused ${c.new} at ${iso(ts)} (${err.errno})`,
            );
          if (held) this.drop(held);
          else this.o.journal!.forget(c.knob);
        } else this.hold(held, c, a, p.target, original, c.old, ts, c.new);
        return false;
      }
    } else {
      await this.o.io.write(c.knob, c.new);
    }
    this.budget.spend(ts);
    this.firstChange ??= ts;
    const back = actual === original;
    if (back && held) this.drop(held);
    else this.hold(held, c, a, p.target, original, actual, ts);
    const because = p.evidence.length > 0 ? evidenceText(p.evidence) : (p.explain?.text ?? p.rule);
    const reason =
      fillReason(a.def.reason, { detail: c.detail, target: entityLabel(p.target), evidence: because }) +
      (p.explain && p.evidence.length > 0 ? `; ${p.explain.text}` : '');
    const ev: DecisionEvent = {
      type: 'decision',
      ts: iso(ts),
      recipe: this.recipe.name,
      detector:
        p.evidence
          .filter((e) => e.active)
          .map((e) => e.detector)
          .join('+') || p.rule,
      evidence: evidenceRecords(p.evidence),
      action: a.name,
      target: p.target.key,
      knob: label,
      old: c.old,
      new: actual,
      applied: this.o.mode === 'apply',
      reverted: back,
      kind: p.kind,
      reason,
      ...(p.explain ? { strategy: p.explain } : {}),
    };
    this.changes.push({ ts: ev.ts, knob: label, old: c.old, new: actual, reason, applied: ev.applied });
    out.push(ev);
    return true;
  }

  private async readOrUndefined(knob: KnobRef): Promise<string | undefined> {
    try {
      return await this.o.io.read(knob);
    } catch {
      return undefined;
    }
  }

  private hold(
    held: Held | undefined,
    c: PlannedChange,
    a: RecipeAction,
    entity: Entity,
    original: string,
    value: string,
    ts: number,
    uncertain?: string,
  ): void {
    const id = knobId(c.knob);
    if (held) {
      held.last = value;
      held.lastChange = ts;
      if (uncertain !== undefined) held.uncertain = uncertain;
      return;
    }
    this.held.push({
      knob: c.knob,
      id,
      action: a,
      entity,
      scopeTarget: c.scopeTarget,
      original,
      last: value,
      lastChange: ts,
      ...(uncertain !== undefined ? { uncertain } : {}),
    });
    this.o.claims.set(id, this.recipe.name);
  }

  /** Put every held knob back (newest first); with revert_on_exit false, keep them and say so. */
  async revertAll(ts: number): Promise<{ events: RunEvent[]; reverted: SummaryEvent['recipes'][number]['reverted'] }> {
    const events: RunEvent[] = [];
    const reverted: SummaryEvent['recipes'][number]['reverted'] = [];
    try {
      this.o.strategy.close?.();
    } catch (err) {
      events.push({
        type: 'notice',
        ts: iso(ts),
        recipe: this.recipe.name,
        message: `could not save what the strategy learned: ${messageOf(err)}`,
      });
    }
    for (const m of this.o.strategy.notices?.() ?? []) events.push({ type: 'notice', ts: iso(ts), recipe: this.recipe.name, message: m });
    for (const h of [...this.held].reverse()) {
      const label = knobLabel(h.knob);
      if (!this.recipe.guards.revertOnExit) {
        events.push({
          type: 'notice',
          ts: iso(ts),
          recipe: this.recipe.name,
          message: `kept ${label} at ${h.last} (revert_on_exit: false)`,
        });
        reverted.push({ knob: label, to: h.last, result: 'kept' });
        this.drop(h);
        continue;
      }
      try {
        const cur = await this.o.io.read(h.knob);
        if (cur !== h.last && cur !== h.uncertain && h.knob.kind !== 'hook') {
          events.push({
            type: 'yield',
            ts: iso(ts),
            recipe: this.recipe.name,
            action: h.action.name,
            target: h.entity.key,
            knob: label,
            expected: h.last,
            found: cur,
            reason: `someone else changed ${label} to ${cur}: left as it is`,
          });
          reverted.push({ knob: label, to: cur, result: 'yielded' });
          this.drop(h);
          continue;
        }
        if (cur === h.original && h.knob.kind !== 'hook') {
          // Already back (a write that was refused, a step back to the original): writing it again could only fail.
          this.drop(h);
          reverted.push({ knob: label, to: h.original, result: 'unchanged' });
          continue;
        }
        await this.o.io.write(h.knob, h.original);
        this.drop(h);
        reverted.push({ knob: label, to: h.original, result: 'restored' });
        events.push({
          type: 'decision',
          ts: iso(ts),
          recipe: this.recipe.name,
          detector: 'exit',
          evidence: {},
          action: h.action.name,
          target: h.entity.key,
          knob: label,
          old: cur,
          new: h.original,
          applied: this.o.mode === 'apply',
          reverted: true,
          kind: 'revert',
          reason: `restore ${label} ${cur} -> ${h.original} because tuner is exiting`,
        });
      } catch (err) {
        const gone = err instanceof KnobGone;
        if (gone) this.drop(h);
        reverted.push({ knob: label, to: h.original, result: gone ? 'gone' : 'failed' });
        events.push({
          type: 'error',
          ts: iso(ts),
          recipe: this.recipe.name,
          action: h.action.name,
          target: h.entity.key,
          knob: label,
          message: `restoring ${label}: ${messageOf(err)}`,
        });
      }
    }
    return { events, reverted };
  }
}
