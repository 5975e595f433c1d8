/**
 * Semantic rules the schema cannot express, each reported with its dotted
 * path: thresholds on the right side of each other and in the signal's
 * range, references to detectors that exist and are about entities the
 * action can change, action-specific checks. Warnings for legal but
 * surprising choices (no hysteresis, no revert on exit).
 */
import { ACTIONS, type ActionName } from '../actions/registry.js';
import type { ActionDef } from '../actions/action.js';
import { namesIn } from '../detect/condition.js';
import { entityOf, SIGNAL_PATHS, type EntityKind } from '../detect/paths.js';
import { durationMs, type Condition } from './fields.js';
import { describe, error, warning, type PathSeg, type Problem } from './problems.js';
import { targetOf } from './recipe.js';
import type { RecipeInput } from './schema.js';

const KIND_WORDS: Record<EntityKind, string> = {
  scope: 'the whole scope',
  cgroup: 'cgroups',
  unified: 'cgroups',
  pid: 'processes',
  cpu: 'CPUs',
  device: 'block devices',
  node: 'NUMA nodes',
};

function conditionNames(c: Condition, at: PathSeg[], known: Set<string>, out: Problem[]): void {
  if (typeof c === 'string') {
    if (!known.has(c)) out.push(error(at, `one of the detector names ${[...known].join(', ')}`, describe(c)));
    return;
  }
  if ('all' in c) c.all.forEach((x, i) => conditionNames(x, [...at, 'all', i], known, out));
  else if ('any' in c) c.any.forEach((x, i) => conditionNames(x, [...at, 'any', i], known, out));
  else conditionNames(c.not, [...at, 'not'], known, out);
}

function detectorRules(r: RecipeInput, out: Problem[]): void {
  const entries = Object.entries(r.detectors);
  if (entries.length === 0) out.push(error(['detectors'], 'at least one detector', 'an empty mapping'));
  for (const [name, d] of entries) {
    const at: PathSeg[] = ['detectors', name];
    const triggers = (['above', 'below', 'burst'] as const).filter((k) => d[k] !== undefined);
    if (triggers.length !== 1) {
      out.push(
        error(
          at,
          'exactly one of "above", "below" or "burst"',
          triggers.length === 0 ? 'none' : triggers.map((k) => `"${k}"`).join(' and '),
        ),
      );
      continue;
    }
    if (d.burst !== undefined) {
      if (d.clear !== undefined)
        out.push(
          error(
            [...at, 'clear'],
            'no clear threshold with "burst" (a burst clears when the value is back under its moving threshold)',
            describe(d.clear),
          ),
        );
      continue;
    }
    const op = d.above !== undefined ? 'above' : 'below';
    const t = (d.above ?? d.below)!;
    const unit = SIGNAL_PATHS.find((p) => p.path === d.signal)?.unit;
    const range = unit === '0..1' ? [0, 1, 'a fraction from 0 to 1'] : unit === '%' ? [0, 100, 'a percentage from 0 to 100'] : undefined;
    for (const [k, v] of [
      [op, t],
      ['clear', d.clear],
    ] as const) {
      if (v === undefined || !range) continue;
      if (v < (range[0] as number) || v > (range[1] as number))
        out.push(error([...at, k], `${range[2]} (${d.signal} is in ${unit})`, describe(v)));
    }
    if (d.clear === undefined)
      out.push(
        warning(
          [...at, 'clear'],
          `a clear threshold ${op === 'above' ? 'below' : 'above'} ${t} for hysteresis`,
          'none (it clears as soon as the value is back past the trigger threshold)',
        ),
      );
    else if (op === 'above' ? d.clear > t : d.clear < t) {
      out.push(
        error(
          [...at, 'clear'],
          `a value ${op === 'above' ? 'at most' : 'at least'} "${op}" (${t}), so it clears only after the value is back past the trigger`,
          describe(d.clear),
        ),
      );
    }
  }
}

function targetRules(r: RecipeInput, i: number, def: ActionDef, params: Record<string, unknown>, known: Set<string>, out: Problem[]): void {
  const at: PathSeg[] = ['actions', i, 'target'];
  const t = targetOf(params.target);
  const kinds = def.targetsFor?.(params) ?? def.targets;
  const words = (ks: readonly EntityKind[]): string => [...new Set(ks.filter((k) => k !== 'scope').map((k) => KIND_WORDS[k]))].join(' or ');
  if (t.kind === 'scope') {
    if (!kinds.includes('scope'))
      out.push(
        error(at, `a detector about ${words(kinds)} (${def.name} cannot act on the scope as a whole)`, describe(params.target ?? 'scope')),
      );
    return;
  }
  const refs: Array<[PathSeg[], string]> = [[typeof params.target === 'string' ? at : [...at, 'detector'], t.detector]];
  if (t.siblingOf) refs.push([[...at, 'sibling_of'], t.siblingOf]);
  const alsoAt = refs.length;
  (t.also ?? []).forEach((n, k) => refs.push([[...at, 'also', k], n]));
  for (const [idx, [p, name]] of refs.entries()) {
    if (!known.has(name)) {
      out.push(error(p, `"scope" or one of the detector names ${[...known].join(', ')}`, describe(name)));
      continue;
    }
    const kind = entityOf(r.detectors[name]!.signal);
    if (p === refs[0]![0] && !kinds.includes(kind)) {
      out.push(
        error(
          p,
          `a detector about ${words(kinds)} (what ${def.name} changes)`,
          `"${name}", which reads ${r.detectors[name]!.signal} (about ${KIND_WORDS[kind]})`,
        ),
      );
    }
    if (idx > 0 && idx < alsoAt && kind !== 'cgroup' && kind !== 'unified') {
      out.push(
        error(p, 'a detector about cgroups (siblings are cgroups with the same parent)', `"${name}", which is about ${KIND_WORDS[kind]}`),
      );
    }
    const own = entityOf(r.detectors[t.detector]?.signal ?? '');
    if (idx >= alsoAt && kind !== own) {
      out.push(
        error(
          p,
          `a detector about ${KIND_WORDS[own]}, like "${t.detector}" (also: filters the same entities)`,
          `"${name}", which is about ${KIND_WORDS[kind]}`,
        ),
      );
    }
  }
}

const rangeOf = (signal: string): [number, number, string] | undefined => {
  const unit = SIGNAL_PATHS.find((p) => p.path === signal)?.unit;
  return unit === '0..1' ? [0, 1, 'a fraction from 0 to 1'] : unit === '%' ? [0, 100, 'a percentage from 0 to 100'] : undefined;
};

/** `of`: a detector that exists and is about the kind of entity the signal is about; "target" only when the actions' targets are. */
function ofRules(r: RecipeInput, signal: string, of: string | undefined, at: PathSeg[], known: Set<string>, out: Problem[]): void {
  const kind = entityOf(signal);
  if (kind === 'scope' || of === 'scope') return;
  if (of === undefined || of === 'target') {
    for (const [i, a] of r.actions.entries()) {
      const t = targetOf((a as Record<string, unknown>).target);
      const tk = t.kind === 'scope' ? 'scope' : r.detectors[t.detector] ? entityOf(r.detectors[t.detector]!.signal) : undefined;
      // A scope target is the scope's cgroup: cgroup signals can read it.
      if (tk !== undefined && tk !== kind && !(isCgroup(tk) && isCgroup(kind)) && !(tk === 'scope' && isCgroup(kind))) {
        out.push(
          error(
            [...at, 'of'],
            `a detector about ${KIND_WORDS[kind]} (${signal} is about ${KIND_WORDS[kind]}, and actions.${i} changes ${KIND_WORDS[tk]})`,
            describe(of ?? 'target (the default)'),
          ),
        );
      }
    }
    return;
  }
  if (!known.has(of)) {
    out.push(error([...at, 'of'], `"target", "scope" or one of the detector names ${[...known].join(', ')}`, describe(of)));
    return;
  }
  const dk = entityOf(r.detectors[of]!.signal);
  if (dk !== kind && !(isCgroup(dk) && isCgroup(kind)))
    out.push(
      error([...at, 'of'], `a detector about ${KIND_WORDS[kind]} (what ${signal} is about)`, `"${of}", which is about ${KIND_WORDS[dk]}`),
    );
}

const isCgroup = (k: EntityKind): boolean => k === 'cgroup' || k === 'unified';

function objectiveRules(r: RecipeInput, known: Set<string>, out: Problem[]): void {
  if (r.objective) ofRules(r, r.objective.signal, r.objective.of, ['objective'], known, out);
  if (r.strategy === 'learned' && !r.objective)
    out.push(error(['strategy'], 'an objective to learn from (strategy: learned maximizes it)', 'strategy "learned" and no objective'));
  (r.constraints ?? []).forEach((c, i) => {
    const at: PathSeg[] = ['constraints', i];
    if ((c.at_least === undefined) === (c.at_most === undefined)) {
      out.push(error(at, 'exactly one of "at_least" or "at_most"', c.at_least === undefined ? 'neither' : 'both'));
      return;
    }
    const range = rangeOf(c.signal);
    const [k, v] = c.at_least !== undefined ? (['at_least', c.at_least] as const) : (['at_most', c.at_most!] as const);
    if (range && (v < range[0] || v > range[1]))
      out.push(error([...at, k], `${range[2]} (${c.signal} is in ${SIGNAL_PATHS.find((p) => p.path === c.signal)?.unit})`, describe(v)));
    ofRules(r, c.signal, c.of, at, known, out);
  });
}

export function checkRules(r: RecipeInput, opts: { asRoot: boolean }): Problem[] {
  const out: Problem[] = [];
  detectorRules(r, out);
  const known = new Set(Object.keys(r.detectors));
  if (r.when !== undefined) conditionNames(r.when, ['when'], known, out);
  const used = new Set(r.when !== undefined ? namesIn(r.when) : known);
  objectiveRules(r, known, out);
  for (const o of [r.objective?.of, ...(r.constraints ?? []).map((c) => c.of)]) if (o !== undefined && known.has(o)) used.add(o);
  r.actions.forEach((a, i) => {
    const def = ACTIONS[a.action as ActionName] as ActionDef;
    const params = a as Record<string, unknown>;
    targetRules(r, i, def, params, known, out);
    const t = targetOf(params.target);
    if (t.kind === 'detector') for (const n of [t.detector, t.siblingOf, ...(t.also ?? [])]) if (n !== undefined) used.add(n);
    if (params.relax_when !== undefined) {
      conditionNames(params.relax_when as Condition, ['actions', i, 'relax_when'], known, out);
      for (const n of namesIn(params.relax_when as Condition)) used.add(n);
    }
    for (const p of def.check?.(params, opts) ?? []) out.push({ ...p, path: ['actions', i, ...p.path] });
  });
  for (const name of known)
    if (!used.has(name))
      out.push(warning(['detectors', name], 'a detector used by "when", an action\'s target or its relax_when', 'one nothing uses'));
  if (r.scope?.cgroup !== undefined && r.scope.cgroup.split('/').includes('..')) {
    out.push(error(['scope', 'cgroup'], 'a cgroup path without ".." (a scope cannot climb out of its subtree)', describe(r.scope.cgroup)));
  }
  if (r.scope?.cgroup !== undefined && r.scope.pids !== undefined) out.push(error(['scope'], 'either cgroup or pids, not both', 'both'));
  if (r.guards?.revert_on_exit === false)
    out.push(
      warning(
        ['guards', 'revert_on_exit'],
        'true (changes are put back when tuner exits)',
        'false: changes stay after exit (a crash is still reverted by `tuner revert`)',
      ),
    );
  const interval = durationMs(r.interval ?? '1s');
  if (interval < 100) out.push(error(['interval'], 'at least 100ms', describe(r.interval)));
  if (r.guards?.cooldown !== undefined && durationMs(r.guards.cooldown) < interval) {
    out.push(error(['guards', 'cooldown'], `a cooldown at least one interval (${r.interval ?? '1s'}) long`, describe(r.guards.cooldown)));
  }
  return out;
}
