/**
 * cpuset_spread: give a process's runnable threads CPUs of their own. Modes:
 * `spread` (each hot thread gets a disjoint group of cores), `pin` (each hot
 * thread gets one CPU), both avoiding SMT siblings while there are free
 * cores (thread_siblings_list); `widen` adds CPUs of the parent cpuset to a
 * cgroup's cpuset.cpus. Every new CPU set lies inside what the task's cpuset
 * allows and is never empty.
 */
import path from 'node:path';
import { z } from 'zod';
import type { Entity } from '../detect/paths.js';
import type { KnobRef } from '../knobs/knob.js';
import { actionCommon, num } from '../recipes/fields.js';
import { formatCpuList, parseCpuList } from '../topology/cpulist.js';
import { spreadOrder, type Topology } from '../topology/topology.js';
import type { ActionContext, ActionDef, Plan, PlannedChange } from './action.js';

const schema = z
  .strictObject({
    action: z.literal('cpuset_spread'),
    ...actionCommon,
    mode: z.enum(['spread', 'pin', 'widen'], { error: 'one of "spread", "pin" or "widen"' }).optional().meta({
      description:
        "spread (default): disjoint core groups per hot thread; pin: one CPU per hot thread; widen: add CPUs to a cgroup's cpuset.cpus",
    }),
    avoid_smt: z
      .boolean({ error: 'true or false' })
      .optional()
      .meta({ description: 'keep hot threads off SMT siblings of each other while cores are free (default true)' }),
    max_threads: num(1, 4096, true).optional().meta({ description: 'threads moved per step, at most (default 64)' }),
    step_cpus: num(1, 64, true).optional().meta({ description: 'widen: CPUs added per step (default 1)' }),
    bounds: z.strictObject({ max_cpus: num(1, 4096, true).meta({ description: 'widen: never more CPUs than this' }) }).optional(),
  })
  .meta({ description: "Spread or pin a process's runnable threads across CPUs, or widen a cgroup's cpuset" });

export type CpusetSpreadParams = z.infer<typeof schema>;

/** Core groups for n threads: group j holds cores j, j+n, ... (all their allowed CPUs). */
export function coreGroups(topo: Topology, universe: readonly number[], n: number, avoidSmt: boolean): number[][] {
  const ok = new Set(universe);
  const cores = avoidSmt
    ? topo.cores.map((c) => c.filter((x) => ok.has(x))).filter((c) => c.length > 0)
    : [...ok].sort((a, b) => a - b).map((c) => [c]);
  const listed = new Set(cores.flat());
  for (const c of universe) if (!listed.has(c)) cores.push([c]);
  const groups = Math.max(1, Math.min(n, cores.length));
  return Array.from({ length: groups }, (_, j) =>
    cores
      .filter((_, i) => i % groups === j)
      .flat()
      .sort((a, b) => a - b),
  );
}

/** New CPU sets for `count` hot threads, in thread order. Never empty while the universe is not. */
export function threadSets(
  topo: Topology,
  universe: readonly number[],
  count: number,
  mode: 'spread' | 'pin',
  avoidSmt: boolean,
): number[][] {
  if (universe.length === 0 || count === 0) return [];
  if (mode === 'pin') {
    const order = avoidSmt ? spreadOrder(topo, universe) : [...universe].sort((a, b) => a - b);
    return Array.from({ length: count }, (_, i) => [order[i % order.length]!]);
  }
  const groups = coreGroups(topo, universe, count, avoidSmt);
  return Array.from({ length: count }, (_, i) => groups[i % groups.length]!);
}

async function spreadPid(ctx: ActionContext, p: CpusetSpreadParams, pid: number): Promise<PlannedChange[] | string> {
  const mode = p.mode === 'pin' ? 'pin' : 'spread';
  const threads = ctx.host.threads(pid);
  if (threads.length === 0) return `pid ${pid} is gone`;
  const runnable = threads.filter((t) => t.state === 'R');
  const hot = (runnable.length > 0 ? runnable : threads).slice(0, p.max_threads ?? 64);
  const topo = ctx.host.topology();
  const universe = (ctx.host.cpusetOf(pid) ?? topo.online).filter((c) => topo.online.includes(c));
  if (universe.length === 0) return `pid ${pid} has no online CPU in its cpuset`;
  const sets = threadSets(topo, universe, hot.length, mode, p.avoid_smt ?? true);
  const changes: PlannedChange[] = [];
  for (const [i, t] of hot.entries()) {
    const knob: KnobRef = { kind: 'affinity', pid, tid: t.tid, start: t.start };
    const old = await ctx.io.read(knob);
    const next = formatCpuList(sets[i]!);
    if (next === '' || next === old) continue;
    changes.push({
      knob,
      old,
      new: next,
      scopeTarget: { kind: 'pid', pid },
      detail: `${mode === 'pin' ? 'pin' : 'spread'} thread ${t.tid} CPUs ${old} -> ${next}`,
    });
  }
  return changes.length > 0 ? changes : `the runnable threads of pid ${pid} already have CPUs of their own`;
}

async function widen(ctx: ActionContext, p: CpusetSpreadParams, name: string): Promise<PlannedChange[] | string> {
  const cg = ctx.host.cgroup('cpuset', name);
  if (!cg) return `no cpuset hierarchy holds cgroup ${name}`;
  const knob: KnobRef = { kind: 'file', path: path.join(cg.path, 'cpuset.cpus') };
  const old = await ctx.io.read(knob);
  const cur = parseCpuList(old);
  const parent = ctx.host.parentCpus(cg);
  if (!parent) return `cannot read the CPUs of the parent of ${name}`;
  if (cur.length === 0) return `${name} has no cpuset.cpus of its own (it uses its parent's)`;
  const topo = ctx.host.topology();
  const max = p.bounds?.max_cpus ?? parent.length;
  const usedCores = new Set(topo.cores.filter((c) => c.some((x) => cur.includes(x))).map((c) => c.join()));
  const free = parent.filter((c) => !cur.includes(c));
  // Prefer CPUs whose core has nothing in the set yet (no SMT sibling of a CPU already there).
  const coreOf = (c: number): string => (topo.cores.find((k) => k.includes(c)) ?? [c]).join();
  const order =
    (p.avoid_smt ?? true) ? [...free.filter((c) => !usedCores.has(coreOf(c))), ...free.filter((c) => usedCores.has(coreOf(c)))] : free;
  const add = order.slice(0, Math.max(0, Math.min(p.step_cpus ?? 1, max - cur.length)));
  if (add.length === 0) return `cpuset.cpus of ${name} is at its bound (${Math.min(max, parent.length)} CPUs)`;
  const next = formatCpuList([...cur, ...add]);
  return [
    {
      knob,
      old,
      new: next,
      bounds: { min: 1, max },
      value: cur.length + add.length,
      scopeTarget: { kind: 'cgroup', name: cg.name, path: cg.path, mount: cg.mount, self: true },
      detail: `widen cpuset.cpus ${old} -> ${next}`,
    },
  ];
}

async function plan(ctx: ActionContext, p: CpusetSpreadParams, target: Entity, kind: 'step' | 'relax'): Promise<Plan> {
  if (kind === 'relax') return { skip: 'cpuset_spread steps only forward; relax: restore puts the originals back' };
  let result: PlannedChange[] | string;
  if (p.mode === 'widen') {
    const name = target.kind === 'scope' ? ctx.scopeCgroup : target.kind === 'cgroup' || target.kind === 'unified' ? target.key : undefined;
    result = name === undefined ? 'widen needs a cgroup target' : await widen(ctx, p, name);
  } else if (target.kind === 'pid') {
    result = await spreadPid(ctx, p, Number(target.key));
  } else if (target.kind === 'scope' && ctx.scopePids) {
    const all: PlannedChange[] = [];
    const why: string[] = [];
    for (const pid of ctx.scopePids) {
      const r = await spreadPid(ctx, p, pid);
      if (typeof r === 'string') why.push(r);
      else all.push(...r);
    }
    result = all.length > 0 ? all : why.join('; ');
  } else {
    result = `${p.mode ?? 'spread'} needs a process target (a detector about processes, or a --pid scope)`;
  }
  return typeof result === 'string' ? { skip: result } : { changes: result };
}

export const cpusetSpread: ActionDef<CpusetSpreadParams> = {
  name: 'cpuset_spread',
  summary: "spread (or pin) a process's runnable threads across CPUs avoiding SMT siblings, or widen a cgroup's cpuset.cpus",
  knob: 'CPU affinity of each runnable thread (sched_setaffinity via taskset), or cpuset.cpus of the target cgroup',
  bounds: "only CPUs the task's cpuset allows, never an empty set; widen: at most bounds.max_cpus CPUs, only CPUs of the parent",
  reason: '{detail} for {target} because {evidence}',
  targets: ['pid', 'cgroup', 'unified', 'scope'],
  targetsFor: (p) => (p.mode === 'widen' ? ['cgroup', 'unified', 'scope'] : ['pid', 'scope']),
  defaultRelax: 'hold',
  schema,
  plan,
};
