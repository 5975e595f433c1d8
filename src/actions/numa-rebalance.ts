/**
 * numa_rebalance: move a workload toward its preferred node (the node that
 * holds most of its pages, or `node`) when cross-node signals rise. A
 * process: every thread's affinity becomes that node's CPUs, then, when its
 * pages sit on one other node, they move to that node (migratepages(8);
 * restoring puts the threads back and the pages back on their node; pages
 * split across nodes stay where they are, as no page-by-page record could
 * be replayed). A cgroup (the scope, or a
 * cgroup a detector names): cpuset.cpus and cpuset.mems become the node's,
 * with cpuset.memory_migrate on so the kernel moves its pages (reverting in
 * reverse order moves them back). On a single-node host it does not apply.
 */
import path from 'node:path';
import { z } from 'zod';
import type { Entity } from '../detect/paths.js';
import type { HostView } from '../host/host.js';
import type { KnobRef } from '../knobs/knob.js';
import { actionCommon, num } from '../recipes/fields.js';
import { formatCpuList, parseCpuList } from '../topology/cpulist.js';
import type { ActionContext, ActionDef, Plan, PlannedChange } from './action.js';

const schema = z
  .strictObject({
    action: z.literal('numa_rebalance'),
    ...actionCommon,
    node: num(0, 1023, true)
      .optional()
      .meta({ description: "move toward this node (default: the node holding most of the target's pages)" }),
    migrate_pages: z.boolean({ error: 'true or false' }).optional().meta({
      description:
        "move the pages too: a process's with migratepages(8), a cgroup's by setting cpuset.memory_migrate so they follow cpuset.mems (default true)",
    }),
    max_threads: num(1, 4096, true).optional().meta({ description: 'process targets: threads moved per step, at most (default 256)' }),
  })
  .meta({ description: 'Move a process or cgroup toward its preferred NUMA node (affinity, or cpuset.cpus/mems with page migration)' });

export type NumaRebalanceParams = z.infer<typeof schema>;

function applies(host: HostView): string | undefined {
  const nodes = host.topology().nodes.filter((n) => n.cpus.length > 0);
  if (nodes.length < 2)
    return `this host has ${nodes.length === 1 ? `one NUMA node (node${nodes[0]!.node})` : 'no NUMA node with CPUs'}: there is nowhere to move a workload to`;
  return undefined;
}

function preferredNode(pages: Map<number, number>[], fixed: number | undefined): number | undefined {
  if (fixed !== undefined) return fixed;
  const sum = new Map<number, number>();
  for (const m of pages) for (const [n, v] of m) sum.set(n, (sum.get(n) ?? 0) + v);
  let best: number | undefined;
  for (const [n, v] of [...sum].sort((a, b) => a[0] - b[0])) if (best === undefined || v > sum.get(best)!) best = n;
  return best;
}

async function movePid(ctx: ActionContext, p: NumaRebalanceParams, pid: number): Promise<PlannedChange[] | string> {
  const pages = ctx.host.numaPages(pid);
  const node = preferredNode(pages ? [pages] : [], p.node);
  if (node === undefined) return `where the pages of pid ${pid} are is unknown`;
  const topo = ctx.host.topology();
  const allowed = ctx.host.cpusetOf(pid) ?? topo.online;
  const cpus = (topo.nodes.find((n) => n.node === node)?.cpus ?? []).filter((c) => allowed.includes(c) && topo.online.includes(c));
  if (cpus.length === 0) return `node ${node} has no CPU pid ${pid} may use`;
  const target = formatCpuList(cpus);
  const changes: PlannedChange[] = [];
  const threads = ctx.host.threads(pid);
  for (const t of threads.slice(0, p.max_threads ?? 256)) {
    const knob: KnobRef = { kind: 'affinity', pid, tid: t.tid, start: t.start };
    const old = await ctx.io.read(knob);
    if (old === target) continue;
    changes.push({
      knob,
      old,
      new: target,
      scopeTarget: { kind: 'pid', pid },
      detail: `move thread ${t.tid} to node ${node}: CPUs ${old} -> ${target}`,
    });
  }
  // The pages after the threads: they are read where the threads now run. Only pages that all sit on one
  // other node move: migratepages moves every page of a node, so a split could not be put back as it was,
  // while one node's pages go back to it exactly (the journal holds that node).
  const leader = threads.find((t) => t.tid === pid);
  let pagesWhy: string | undefined;
  if ((p.migrate_pages ?? true) && leader && pages) {
    const knob: KnobRef = { kind: 'pages', pid, start: leader.start };
    const old = await ctx.io.read(knob);
    const held = parseCpuList(old);
    const counts = [...pages]
      .sort((a, b) => a[0] - b[0])
      .map(([n, c]) => `N${n}=${c}`)
      .join(' ');
    if (held.length === 1 && held[0] !== node)
      changes.push({
        knob,
        old,
        new: String(node),
        scopeTarget: { kind: 'pid', pid },
        detail: `move the pages of pid ${pid} to node ${node}: node ${old} (pages ${counts}) -> ${node}`,
      });
    else if (held.length > 1)
      pagesWhy = `the pages of pid ${pid} are split across nodes ${old} (pages ${counts}): tuner leaves them, since a split cannot be put back as it was`;
  }
  if (changes.length > 0) return changes;
  return pagesWhy ?? `pid ${pid} already runs on node ${node}`;
}

async function moveCgroup(ctx: ActionContext, p: NumaRebalanceParams, name: string, self: boolean): Promise<PlannedChange[] | string> {
  const cg = ctx.host.cgroup('cpuset', name);
  if (!cg) return `no cpuset hierarchy holds cgroup ${name}`;
  const node = preferredNode(
    ctx.host.pidsIn(cg).map((pid) => ctx.host.numaPages(pid) ?? new Map()),
    p.node,
  );
  if (node === undefined) return `where the pages of ${name} are is unknown`;
  const cpus = ctx.host.topology().nodes.find((n) => n.node === node)?.cpus ?? [];
  const parent = ctx.host.parentCpus(cg) ?? cpus;
  const useCpus = cpus.filter((c) => parent.includes(c));
  if (useCpus.length === 0) return `node ${node} has no CPU the parent of ${name} allows`;
  const files: Array<[string, string]> = [];
  if (p.migrate_pages ?? true) files.push(['cpuset.memory_migrate', '1']);
  files.push(['cpuset.mems', String(node)], ['cpuset.cpus', formatCpuList(useCpus)]);
  const changes: PlannedChange[] = [];
  for (const [file, value] of files) {
    const knob: KnobRef = { kind: 'file', path: path.join(cg.path, file) };
    const old = await ctx.io.read(knob);
    if (old === value) continue;
    changes.push({
      knob,
      old,
      new: value,
      scopeTarget: { kind: 'cgroup', name: cg.name, path: cg.path, mount: cg.mount, self },
      detail: `move to node ${node}: ${file} ${old} -> ${value}`,
    });
  }
  return changes.length > 0 ? changes : `${name} is already on node ${node}`;
}

async function plan(ctx: ActionContext, p: NumaRebalanceParams, target: Entity, kind: 'step' | 'relax'): Promise<Plan> {
  if (kind === 'relax') return { skip: 'numa_rebalance moves in one step; relax: restore puts the originals back' };
  const why = applies(ctx.host);
  if (why) return { skip: why };
  let r: PlannedChange[] | string;
  if (target.kind === 'pid') r = await movePid(ctx, p, Number(target.key));
  else if (target.kind === 'cgroup' || target.kind === 'unified') r = await moveCgroup(ctx, p, target.key, false);
  else if (ctx.scopeCgroup !== undefined) r = await moveCgroup(ctx, p, ctx.scopeCgroup, true);
  else {
    const all: PlannedChange[] = [];
    for (const pid of ctx.scopePids ?? []) {
      const c = await movePid(ctx, p, pid);
      if (typeof c !== 'string') all.push(...c);
    }
    r = all.length > 0 ? all : 'every process in scope is already on its preferred node';
  }
  return typeof r === 'string' ? { skip: r } : { changes: r };
}

export const numaRebalance: ActionDef<NumaRebalanceParams> = {
  name: 'numa_rebalance',
  summary: 'move a process (thread affinity, then its pages) or a cgroup (cpuset.cpus/mems with page migration) to its preferred NUMA node',
  knob: 'CPU affinity of each thread and the NUMA nodes of the pages of the target process, or cpuset.cpus, cpuset.mems and cpuset.memory_migrate of the target cgroup',
  bounds: 'one target per step; only CPUs of the chosen node that the cpuset allows; never an empty set',
  reason: '{detail} for {target} because {evidence}',
  targets: ['pid', 'cgroup', 'unified', 'scope'],
  defaultRelax: 'hold',
  schema,
  applies,
  plan,
};
