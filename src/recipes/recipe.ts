/** A recipe after validation: defaults filled in, durations in ms, actions resolved from the registry. */
import { ACTIONS, type ActionName } from '../actions/registry.js';
import type { ActionDef } from '../actions/action.js';
import type { DetectorSpec } from '../detect/detector.js';
import { parsePath, type SignalFamily } from '../detect/paths.js';
import { durationMs, type Condition, type Relax } from './fields.js';
import type { RecipeInput } from './schema.js';

export type TargetSpec = { kind: 'scope' } | { kind: 'detector'; detector: string; siblingOf?: string; also?: string[] };

export interface RecipeAction {
  index: number;
  name: ActionName;
  def: ActionDef;
  params: Record<string, unknown>;
  target: TargetSpec;
  relax: Relax;
  relaxWhen?: Condition;
}

/** Whose value an objective or constraint reads: the action's target, the scope, or a detector's entity. */
export type OfSpec = { kind: 'target' } | { kind: 'scope' } | { kind: 'detector'; detector: string };

export interface ObjectiveSpec {
  signal: string;
  of: OfSpec;
  goal: 'lower' | 'raise';
  /** Window-to-window changes smaller than this are noise (in the signal's unit). */
  noise: number;
  /** EWMA half-life in windows (undefined: raw values). */
  smooth?: number;
}

export interface ConstraintSpec {
  signal: string;
  of: OfSpec;
  op: 'at_least' | 'at_most';
  limit: number;
}

export type StrategyKind = 'heuristic' | 'learned';

export interface Recipe {
  file: string;
  name: string;
  description: string;
  scope?: { cgroup?: string; pids?: number[] };
  intervalMs: number;
  durationMs: number;
  detectors: DetectorSpec[];
  when: Condition;
  objective?: ObjectiveSpec;
  constraints: ConstraintSpec[];
  strategy: StrategyKind;
  actions: RecipeAction[];
  guards: { cooldownMs: number; maxChangesPerHour: number; revertOnExit: boolean };
  /** Signals the detectors read. */
  signals: SignalFamily[];
  /** `tuner agent` acts on it (otherwise an audit). */
  apply: boolean;
}

export const DEFAULTS = { interval: '1s', duration: '1m', cooldown: '30s', maxChangesPerHour: 20, for: 1, clearFor: 1 } as const;

export function targetOf(t: unknown): TargetSpec {
  if (t === undefined || t === 'scope') return { kind: 'scope' };
  if (typeof t === 'string') return { kind: 'detector', detector: t };
  const o = t as { detector: string; sibling_of?: string; also?: string[] };
  return {
    kind: 'detector',
    detector: o.detector,
    ...(o.sibling_of ? { siblingOf: o.sibling_of } : {}),
    ...(o.also ? { also: o.also } : {}),
  };
}

export function ofSpec(o: string | undefined): OfSpec {
  if (o === undefined || o === 'target') return { kind: 'target' };
  if (o === 'scope') return { kind: 'scope' };
  return { kind: 'detector', detector: o };
}

/** Input the schema and rules accepted -> Recipe. */
export function normalize(file: string, r: RecipeInput): Recipe {
  const detectors: DetectorSpec[] = Object.entries(r.detectors).map(([name, d]): DetectorSpec => {
    if (d.burst) {
      const burst = { k: d.burst.k ?? 4, minRise: d.burst.min_rise ?? 0.5, halfLife: d.burst.half_life ?? 10 };
      return {
        name,
        signal: d.signal,
        op: 'above',
        threshold: NaN,
        clear: NaN,
        for: d.for ?? DEFAULTS.for,
        clearFor: d.clear_for ?? DEFAULTS.clearFor,
        burst,
        ...(d.smooth ? { smooth: d.smooth } : {}),
      };
    }
    const op = d.above !== undefined ? 'above' : 'below';
    const threshold = (op === 'above' ? d.above : d.below)!;
    return {
      name,
      signal: d.signal,
      op,
      threshold,
      clear: d.clear ?? threshold,
      for: d.for ?? DEFAULTS.for,
      clearFor: d.clear_for ?? DEFAULTS.clearFor,
      ...(d.smooth ? { smooth: d.smooth } : {}),
    };
  });
  const actions = r.actions.map((a, index): RecipeAction => {
    const def = ACTIONS[a.action as ActionName] as ActionDef;
    const params = a as Record<string, unknown>;
    return {
      index,
      name: a.action as ActionName,
      def,
      params,
      target: targetOf(params.target),
      relax: (params.relax as Relax | undefined) ?? def.defaultRelax,
      ...(params.relax_when !== undefined ? { relaxWhen: params.relax_when as Condition } : {}),
    };
  });
  return {
    file,
    name: r.name,
    description: r.description,
    ...(r.scope ? { scope: { ...r.scope } } : {}),
    intervalMs: durationMs(r.interval ?? DEFAULTS.interval),
    durationMs: durationMs(r.duration ?? DEFAULTS.duration),
    detectors,
    when: r.when ?? (detectors.length === 1 ? detectors[0]!.name : { all: detectors.map((d) => d.name) }),
    ...(r.objective
      ? {
          objective: {
            signal: r.objective.signal,
            of: ofSpec(r.objective.of),
            goal: r.objective.goal,
            noise: r.objective.noise,
            ...(r.objective.smooth ? { smooth: r.objective.smooth } : {}),
          },
        }
      : {}),
    constraints: (r.constraints ?? []).map((c) => ({
      signal: c.signal,
      of: ofSpec(c.of),
      op: c.at_least !== undefined ? 'at_least' : 'at_most',
      limit: (c.at_least ?? c.at_most)!,
    })),
    strategy: r.strategy ?? 'heuristic',
    actions,
    guards: {
      cooldownMs: durationMs(r.guards?.cooldown ?? DEFAULTS.cooldown),
      maxChangesPerHour: r.guards?.max_changes_per_hour ?? DEFAULTS.maxChangesPerHour,
      revertOnExit: r.guards?.revert_on_exit ?? true,
    },
    signals: [
      ...new Set(
        [
          ...detectors.map((d) => d.signal),
          ...(r.objective ? [r.objective.signal] : []),
          ...(r.constraints ?? []).map((c) => c.signal),
        ].map((s) => parsePath(s).family),
      ),
    ],
    apply: r.apply ?? false,
  };
}
