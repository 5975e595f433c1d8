/**
 * The Action interface: one file per action, one registry (registry.ts).
 * An action declares the knob it touches, its bounds and a plain-English
 * reason; given a target it plans bounded changes (old -> new). It never
 * writes: the engine checks each planned change against the scope, bounds,
 * cooldown and rate guards, journals the original, then writes.
 */
import type { z } from 'zod';
import type { Entity, EntityKind } from '../detect/paths.js';
import type { SignalRecords } from '../detect/samples.js';
import type { HostView } from '../host/host.js';
import type { KnobIo, KnobRef } from '../knobs/knob.js';
import type { Problem } from '../recipes/problems.js';
import type { Relax } from '../recipes/fields.js';

/** Where a change lands; the engine refuses anything outside the scope. */
export type ScopeTarget =
  /** `self`: the scope's own cgroup may be the target (its limit only affects the scope). */
  | { kind: 'cgroup'; name: string; path: string; mount: string; self?: boolean }
  | { kind: 'pid'; pid: number }
  | { kind: 'device'; dev: string }
  | { kind: 'hook' };

export interface PlannedChange {
  knob: KnobRef;
  old: string;
  new: string;
  /** Numeric bounds the new value was kept within (checked again by the engine). */
  bounds?: { min: number; max: number };
  /** The new value as a number, when `new` is not one (cpu.max "50000 100000" -> 50000). */
  value?: number;
  scopeTarget: ScopeTarget;
  /** What the step does, for the log line: "lower weight 10000 -> 2500 (cpu.shares 102400 -> 25600)". */
  detail: string;
}

export type Plan = { changes: PlannedChange[] } | { skip: string };

/** A knob the action changed and still holds. */
export interface HeldKnob {
  knob: KnobRef;
  original: string;
  last: string;
  entity: Entity;
}

export interface ActionContext {
  host: HostView;
  recipe: string;
  /** Index of the action in the recipe (hook ids). */
  actionIndex: number;
  /** For reading current values only. */
  io: KnobIo;
  /** The scope's cgroup name (cpu hierarchy), "/" for the whole host, undefined for a PID scope. */
  scopeCgroup: string | undefined;
  scopePids: number[] | undefined;
  /** Knobs this action holds (originals), for relaxing. */
  held: readonly HeldKnob[];
  /** The records of the window the proposal came from: what the target used, for sizing a step. */
  window?: SignalRecords;
}

export interface CheckContext {
  /** Running as root: hook commands must not be writable by group or others. */
  asRoot: boolean;
}

export interface ActionDef<P = any> {
  readonly name: string;
  /** One line for README and `validate`. */
  readonly summary: string;
  /** The knob it touches. */
  readonly knob: string;
  /** Its bounds, in words. */
  readonly bounds: string;
  /** Reason template: {target}, {detail} and {evidence} are filled in. */
  readonly reason: string;
  /** Entity kinds a target detector may be about; 'scope' when it can act on the scope itself. */
  readonly targets: readonly EntityKind[];
  /** The same, narrowed by the parameters (e.g. a mode that only works on cgroups). */
  targetsFor?(params: P): readonly EntityKind[];
  readonly defaultRelax: Relax;
  /** The action's entry in the recipe (a strict object with `action: <name>`). */
  readonly schema: z.ZodType<P>;
  /** Why the action cannot do anything on this host (undefined: it applies). */
  applies?(host: HostView, params: P): string | undefined;
  /** Semantic checks beyond the schema (paths relative to the action entry). */
  check?(params: P, ctx: CheckContext): Problem[];
  /** Plan one bounded step (or one step back toward the originals, for relax). */
  plan(ctx: ActionContext, params: P, target: Entity, kind: 'step' | 'relax'): Promise<Plan>;
}

/** Render a reason template. */
export function fillReason(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
}
