/**
 * pressure_backoff: when pressure is high, shrink the target's CPU quota a
 * bounded factor per step (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us`) and/or
 * tell a cooperative service through a hook command (an argument array, run
 * without a shell) to shrink its worker pool; step back up as pressure falls.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Entity } from '../detect/paths.js';
import { samplesOf } from '../detect/samples.js';
import { actionCommon, duration, durationMs, num } from '../recipes/fields.js';
import { error, type Problem } from '../recipes/problems.js';
import type { KnobRef } from '../knobs/knob.js';
import { unsafeWritable } from '../recipes/permissions.js';
import { within } from '../scope/guard.js';
import type { ActionContext, ActionDef, Plan, PlannedChange } from './action.js';

const schema = z
  .strictObject({
    action: z.literal('pressure_backoff'),
    ...actionCommon,
    target: actionCommon.target.optional().meta({ description: 'default "scope": the scope cgroup itself' }),
    factor: num(0.5, 0.95)
      .optional()
      .meta({ description: 'each step multiplies the quota by this (default 0.8); stepping up divides by it' }),
    quota: z.boolean({ error: 'true or false' }).optional().meta({ description: 'change the CPU quota (default true)' }),
    bounds: z.strictObject({ min_cpus: num(0.01, 4096).meta({ description: 'never limit below this many CPUs' }) }),
    hook: z
      .strictObject({
        command: z
          .array(z.string({ error: 'a string' }), { error: 'a list: the program (absolute path) and its arguments' })
          .min(1, { error: 'a list with at least the program' }),
        timeout: duration.optional().meta({ description: 'kill the hook after this long (default 5s)' }),
        max_level: num(1, 100, true).optional().meta({ description: 'highest back-off level passed as {level} (default 10)' }),
      })
      .optional()
      .meta({ description: 'run this command at every step: {level} (0 = normal) and {target} are substituted; no shell' }),
  })
  .meta({ description: "Step a cgroup's CPU quota down under pressure and back up after, and/or call a hook" });

export type PressureBackoffParams = z.infer<typeof schema>;

function check(p: PressureBackoffParams, ctx: { asRoot: boolean }): Problem[] {
  const out: Problem[] = [];
  if (p.quota === false && !p.hook)
    out.push(error(['quota'], 'a quota change or a hook (with quota: false, give hook.command)', 'false (boolean) and no hook'));
  const prog = p.hook?.command[0];
  if (prog !== undefined) {
    const at = ['hook', 'command', 0];
    if (!path.isAbsolute(prog))
      out.push(error(at, 'an absolute path to the program (no PATH lookup, no shell)', `${JSON.stringify(prog)} (string)`));
    else {
      let ok = true;
      try {
        if (!statSync(prog).isFile()) ok = false;
        accessSync(prog, constants.X_OK);
      } catch {
        ok = false;
      }
      if (!ok) out.push(error(at, 'an executable file', `${JSON.stringify(prog)}, which is missing or not executable`));
      else if (ctx.asRoot) {
        const why = unsafeWritable(prog);
        if (why) out.push(error(at, 'a program only root can modify (tuner runs it as root)', `${JSON.stringify(prog)}: ${why}`));
      }
    }
  }
  return out;
}

const ncpus = (ctx: ActionContext): number => Math.max(1, ctx.host.topology().online.length);
const round2 = (x: number): number => Math.round(x * 100) / 100;

/** CPUs that cgroup `name` and the cgroups below it used in the window (the sched signal), when it reported them. */
function usedCpus(ctx: ActionContext, name: string): number | undefined {
  const intervalMs = ctx.window?.sched?.interval_ms;
  if (typeof intervalMs !== 'number' || !(intervalMs > 0)) return undefined;
  const mine = samplesOf('sched.cgroups.oncpu_ns', ctx.window!).filter((s) => within(s.entity.key, name));
  return mine.length > 0 ? mine.reduce((sum, s) => sum + s.value, 0) / (intervalMs * 1e6) : undefined;
}

async function quotaChange(
  ctx: ActionContext,
  p: PressureBackoffParams,
  name: string,
  kind: 'step' | 'relax',
): Promise<PlannedChange | string> {
  const cg = ctx.host.cgroup('cpu', name);
  if (!cg) return `no cpu controller hierarchy holds cgroup ${name}`;
  if (cg.name === '/') return 'it never limits the root cgroup: give a cgroup scope (--cgroup)';
  const factor = p.factor ?? 0.8;
  let knob: KnobRef;
  let old: string;
  let quota: number;
  let period: number;
  if (cg.version === 2) {
    knob = { kind: 'file', path: path.join(cg.path, 'cpu.max') };
    old = await ctx.io.read(knob);
    const [q, per] = old.split(' ');
    period = Number(per ?? 100000);
    quota = q === 'max' ? -1 : Number(q);
  } else {
    knob = { kind: 'file', path: path.join(cg.path, 'cpu.cfs_quota_us') };
    old = await ctx.io.read(knob);
    quota = Number(old);
    period = Number(await ctx.io.read({ kind: 'file', path: path.join(cg.path, 'cpu.cfs_period_us') }));
  }
  if (!(period > 0) || !Number.isFinite(quota)) return `cannot read the quota of ${name} (${old})`;
  const all = ncpus(ctx);
  // An unlimited group steps down from what it uses, not from the machine's CPUs: on a large host a group using
  // a few CPUs would otherwise take many steps before its quota binds at all.
  const used = quota < 0 && kind === 'step' ? usedCpus(ctx, cg.name) : undefined;
  const cur = quota < 0 ? Math.min(all, used ?? all) : quota / period;
  const text = (q: number): string => (cg.version === 2 ? `${q} ${period}` : String(q));
  let newText: string;
  let newQuota: number;
  if (kind === 'relax') {
    const held = ctx.held.find((h) => h.knob.kind === 'file' && h.knob.path === knob.path);
    if (!held) return `the quota of ${name} was not changed`;
    const origQ = cg.version === 2 ? held.original.split(' ')[0]! : held.original;
    const orig = origQ === 'max' || Number(origQ) < 0 ? all : Number(origQ) / period;
    const up = cur / factor;
    if (up >= orig) {
      newText = held.original;
      newQuota = origQ === 'max' ? -1 : Number(origQ);
    } else {
      newQuota = Math.round(up * period);
      newText = text(newQuota);
    }
  } else {
    const min = p.bounds.min_cpus;
    if (used !== undefined && cur <= min)
      return `${name} uses ${round2(used)} CPUs, no more than the lower bound (${min} CPUs): a quota would not slow it`;
    if (cur <= min) return `the quota of ${name} is at its lower bound (${min} CPUs)`;
    // The kernel refuses quotas below 1 ms.
    newQuota = Math.max(1000, Math.round(Math.max(min, cur * factor) * period));
    newText = text(newQuota);
  }
  if (newText === old) return `the quota of ${name} is already ${old}`;
  const limit = (q: number): string => (q < 0 ? 'unlimited' : `${round2(q / period)} CPUs`);
  return {
    knob,
    old,
    new: newText,
    value: newQuota,
    bounds: { min: Math.max(1000, Math.round(p.bounds.min_cpus * period)), max: all * period },
    scopeTarget: { kind: 'cgroup', name: cg.name, path: cg.path, mount: cg.mount, self: true },
    detail: `${kind === 'step' ? 'step CPU quota down' : 'step CPU quota back up'} ${limit(quota)}${used !== undefined ? ` (using ${round2(used)} CPUs)` : ''} -> ${limit(newQuota)}`,
  };
}

/** The hook knob of action `index` of `recipe` for `target` (revert rebuilds it from the recipe to check a journal's). */
export function hookKnob(recipe: string, index: number, target: string, h: NonNullable<PressureBackoffParams['hook']>): KnobRef {
  return {
    kind: 'hook',
    id: `${recipe}/${index}/${target}`,
    argv: h.command.map((a) => a.replaceAll('{target}', target)),
    timeoutMs: h.timeout ? durationMs(h.timeout) : 5000,
  };
}

async function hookChange(
  ctx: ActionContext,
  p: PressureBackoffParams,
  target: string,
  kind: 'step' | 'relax',
): Promise<PlannedChange | string> {
  const h = p.hook!;
  const knob = hookKnob(ctx.recipe, ctx.actionIndex, target, h);
  const level = Number(await ctx.io.read(knob));
  const max = h.max_level ?? 10;
  const next = kind === 'step' ? level + 1 : level - 1;
  if (next > max) return `the hook is at its highest level (${max})`;
  if (next < 0) return 'the hook is back at level 0';
  return {
    knob,
    old: String(level),
    new: String(next),
    bounds: { min: 0, max },
    scopeTarget: { kind: 'hook' },
    detail: `hook level ${level} -> ${next}`,
  };
}

async function plan(ctx: ActionContext, p: PressureBackoffParams, target: Entity, kind: 'step' | 'relax'): Promise<Plan> {
  const name = target.kind === 'scope' ? ctx.scopeCgroup : target.key;
  const changes: PlannedChange[] = [];
  const skips: string[] = [];
  if (p.quota !== false) {
    if (name === undefined) skips.push('a PID scope has no cgroup quota to change');
    else {
      const c = await quotaChange(ctx, p, name, kind);
      if (typeof c === 'string') skips.push(c);
      else changes.push(c);
    }
  }
  if (p.hook) {
    const c = await hookChange(ctx, p, name ?? (ctx.scopePids ?? []).join(','), kind);
    if (typeof c === 'string') skips.push(c);
    else changes.push(c);
  }
  return changes.length > 0 ? { changes } : { skip: skips.join('; ') };
}

export const pressureBackoff: ActionDef<PressureBackoffParams> = {
  name: 'pressure_backoff',
  summary: "under pressure, step the target cgroup's CPU quota down (and/or call a hook); step back up as pressure falls",
  knob: 'cpu.max (cgroup v2) or cpu.cfs_quota_us (v1) of the target cgroup; the level passed to the hook command',
  bounds: 'quota never below bounds.min_cpus CPUs nor above the original; hook level 0..hook.max_level',
  reason: '{detail} for {target} because {evidence}',
  targets: ['scope', 'cgroup', 'unified'],
  defaultRelax: 'step',
  schema,
  check,
  plan,
};
