/**
 * cpu_weight: lower a dominating cgroup's CPU weight, or raise a starved
 * one's, by a bounded factor per step. cgroup v2 `cpu.weight`; cgroup v1
 * `cpu.shares`, converted as systemd converts them (bounds are always in
 * cpu.weight units, 1..10000).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { readWeight, weightFile, weightText, weightToShares } from '../cgroup/weight.js';
import type { Entity } from '../detect/paths.js';
import { KnobGone } from '../knobs/knob.js';
import { actionCommon, num } from '../recipes/fields.js';
import { error, type Problem } from '../recipes/problems.js';
import type { ActionContext, ActionDef, Plan } from './action.js';

const schema = z
  .strictObject({
    action: z.literal('cpu_weight'),
    ...actionCommon,
    direction: z
      .enum(['lower', 'raise'], { error: 'one of "lower" or "raise"' })
      .meta({ description: 'lower the target (a dominating cgroup) or raise it (a starved one)' }),
    factor: num(0.1, 10).meta({ description: 'each step multiplies the weight by this: 0.1..0.9 to lower, 1.1..10 to raise' }),
    bounds: z
      .strictObject({ min: num(1, 10_000, true), max: num(1, 10_000, true) })
      .meta({ description: 'the weight (cpu.weight units, 1..10000; default 100) stays within these' }),
  })
  .meta({ description: "Change a cgroup's CPU weight (v2 cpu.weight, v1 cpu.shares as systemd converts them)" });

export type CpuWeightParams = z.infer<typeof schema>;

function check(p: CpuWeightParams): Problem[] {
  const out: Problem[] = [];
  if (p.direction === 'lower' && !(p.factor >= 0.1 && p.factor <= 0.9))
    out.push(error(['factor'], 'a factor from 0.1 to 0.9 to lower the weight', `${p.factor} (number)`));
  if (p.direction === 'raise' && !(p.factor >= 1.1 && p.factor <= 10))
    out.push(error(['factor'], 'a factor from 1.1 to 10 to raise the weight', `${p.factor} (number)`));
  if (p.bounds.min > p.bounds.max)
    out.push(error(['bounds', 'min'], `a minimum no larger than bounds.max (${p.bounds.max})`, `${p.bounds.min} (number)`));
  return out;
}

async function plan(ctx: ActionContext, p: CpuWeightParams, target: Entity, kind: 'step' | 'relax'): Promise<Plan> {
  const cg = ctx.host.cgroup('cpu', target.key);
  if (!cg) return { skip: `no cpu controller hierarchy holds cgroup ${target.key}` };
  const file = weightFile(cg.version);
  const knob = { kind: 'file' as const, path: path.join(cg.path, file) };
  let oldText: string;
  try {
    oldText = await ctx.io.read(knob);
  } catch (err) {
    // On v2 a cgroup has cpu.weight only when its parent enables the cpu controller for its children.
    // Acting on an ancestor instead would move the whole subtree: say so and act on nothing.
    if (err instanceof KnobGone && cg.version === 2 && !ctx.host.simulated && existsSync(cg.path)) {
      const parent = path.dirname(cg.path);
      return {
        skip: `the cpu controller is not enabled for ${cg.name} (it has no ${file}): cpu_weight cannot act there until the controller is delegated to it ("+cpu" in ${path.join(parent, 'cgroup.subtree_control')} and in each ancestor's), and it does not act on an ancestor instead`,
      };
    }
    throw err;
  }
  const w = readWeight(cg.version, oldText);
  const lowering = (p.direction === 'lower') === (kind === 'step');
  let next: number;
  let newText: string;
  if (kind === 'relax') {
    const held = ctx.held.find((h) => h.knob.kind === 'file' && h.knob.path === knob.path);
    if (!held) return { skip: `${target.key} was not changed` };
    const orig = readWeight(cg.version, held.original);
    // One step back toward the original: undo one factor.
    next = p.direction === 'lower' ? Math.min(orig, Math.ceil(w / p.factor)) : Math.max(orig, Math.floor(w / p.factor));
    newText = next === orig ? held.original : weightText(cg.version, next);
  } else {
    const { min, max } = p.bounds;
    next = Math.min(max, Math.max(min, lowering ? Math.floor(w * p.factor) : Math.ceil(w * p.factor)));
    if (lowering ? next >= w : next <= w)
      return { skip: `${target.key} weight ${w} is at its ${lowering ? 'lower' : 'upper'} bound (${lowering ? min : max})` };
    newText = weightText(cg.version, next);
  }
  if (newText === oldText) return { skip: `${target.key} ${file} is already ${oldText}` };
  const bounds = cg.version === 1 ? { min: weightToShares(p.bounds.min), max: weightToShares(p.bounds.max) } : p.bounds;
  const fileNote = cg.version === 1 ? ` (cpu.shares ${oldText} -> ${newText})` : '';
  return {
    changes: [
      {
        knob,
        old: oldText,
        new: newText,
        bounds,
        scopeTarget: { kind: 'cgroup', name: cg.name, path: cg.path, mount: cg.mount },
        detail: `${lowering ? 'lower' : 'raise'} CPU weight ${w} -> ${readWeight(cg.version, newText)}${fileNote}`,
      },
    ],
  };
}

export const cpuWeight: ActionDef<CpuWeightParams> = {
  name: 'cpu_weight',
  summary: "lower a dominating sibling cgroup's CPU weight, or raise a starved one's, a bounded factor per step",
  knob: 'cpu.weight (cgroup v2) or cpu.shares (v1) of the target cgroup',
  bounds: 'bounds.min..bounds.max in cpu.weight units (1..10000); v1 shares = weight * 1024 / 100, clamped to 2..262144',
  reason: '{detail} of {target} because {evidence}',
  targets: ['cgroup', 'unified'],
  defaultRelax: 'hold',
  schema,
  check,
  plan,
};
