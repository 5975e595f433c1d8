/** Each action's plan against fake trees: bounded steps, relaxing back to the exact original, bounds and skips. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionContext, HeldKnob, Plan } from '../../src/actions/action.js';
import { cpuWeight } from '../../src/actions/cpu-weight.js';
import { coreGroups, cpusetSpread, threadSets } from '../../src/actions/cpuset-spread.js';
import { ioPrefetch } from '../../src/actions/io-prefetch.js';
import { numaRebalance } from '../../src/actions/numa-rebalance.js';
import { pressureBackoff } from '../../src/actions/pressure-backoff.js';
import { RealHost, SimHost, type HostView } from '../../src/host/host.js';
import { RealIo } from '../../src/knobs/real-io.js';
import { SimIo } from '../../src/knobs/sim-io.js';
import type { KnobIo } from '../../src/knobs/knob.js';
import { readTopology } from '../../src/topology/topology.js';
import { fakeFiles, fakeLayout } from '../helpers/fake-cgroups.js';
import { fakeTree, type FakeTree } from '../helpers/fake-sys.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tuner-act-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
function tree(opts: Parameters<typeof fakeTree>[0]): FakeTree {
  const t = fakeTree(opts);
  cleanups.push(() => t.remove());
  return t;
}

function ctx(host: HostView, io: KnobIo, o: Partial<ActionContext> = {}): ActionContext {
  return { host, io, recipe: 'r', actionIndex: 0, scopeCgroup: '/p', scopePids: undefined, held: [], ...o };
}
const changes = (p: Plan) =>
  'changes' in p ? p.changes.map((c) => [c.knob.kind === 'file' ? path.basename(c.knob.path) : c.knob.kind, c.old, c.new]) : p.skip;

describe('cpu_weight', () => {
  const params = { action: 'cpu_weight' as const, target: 'd', direction: 'lower' as const, factor: 0.25, bounds: { min: 25, max: 10000 } };

  it('cgroup v1: lowers cpu.shares in weight units, a bounded factor per step, down to the bound', async () => {
    const root = tmp();
    const layout = fakeLayout(root, 1);
    fakeFiles(layout.cpu!.mountPoint, '/p/hog', { 'cpu.shares': '262144' });
    const host = new RealHost(layout, '/sys', '/proc');
    const io = new SimIo([0, 1], new Map([[path.join(layout.cpu!.mountPoint, 'p/hog/cpu.shares'), '262144']]));
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const p = await cpuWeight.plan(ctx(host, io), params, { kind: 'cgroup', key: '/p/hog' }, 'step');
      if ('skip' in p) {
        seen.push(`skip: ${p.skip}`);
        break;
      }
      const c = p.changes[0]!;
      expect(c.scopeTarget).toEqual({
        kind: 'cgroup',
        name: '/p/hog',
        path: path.join(layout.cpu!.mountPoint, 'p/hog'),
        mount: layout.cpu!.mountPoint,
      });
      expect(Number(c.new)).toBeGreaterThanOrEqual(c.bounds!.min);
      io.writeSync(c.knob, c.new);
      seen.push(c.new);
    }
    // Weights 10000 -> 2500 -> 625 -> 155 -> 38 -> 25 (the bound), as shares; v1 shares round down on the way back to weights.
    expect(seen).toEqual(['25600', '6400', '1597', '389', '256', 'skip: /p/hog weight 25 is at its lower bound (25)']);
  });

  it('cgroup v2 raise, and relax steps back to the exact original text', async () => {
    const root = tmp();
    const layout = fakeLayout(root, 2);
    const host = new RealHost(layout);
    const file = path.join(layout.unified!.mountPoint, 'p/victim/cpu.weight');
    const io = new SimIo([0, 1], new Map([[file, '100']]));
    const raise = { ...params, direction: 'raise' as const, factor: 2, bounds: { min: 1, max: 300 } };
    const target = { kind: 'cgroup' as const, key: '/p/victim' };
    const p1 = await cpuWeight.plan(ctx(host, io), raise, target, 'step');
    expect(changes(p1)).toEqual([['cpu.weight', '100', '200']]);
    io.writeSync({ kind: 'file', path: file }, '200');
    expect(changes(await cpuWeight.plan(ctx(host, io), raise, target, 'step'))).toEqual([['cpu.weight', '200', '300']]);
    io.writeSync({ kind: 'file', path: file }, '300');
    const held: HeldKnob[] = [{ knob: { kind: 'file', path: file }, original: '100', last: '300', entity: target }];
    expect(changes(await cpuWeight.plan(ctx(host, io, { held }), raise, target, 'relax'))).toEqual([['cpu.weight', '300', '150']]);
    io.writeSync({ kind: 'file', path: file }, '150');
    expect(changes(await cpuWeight.plan(ctx(host, io, { held }), raise, target, 'relax'))).toEqual([['cpu.weight', '150', '100']]);
  });
});

describe('pressure_backoff', () => {
  const params = { action: 'pressure_backoff' as const, factor: 0.8, bounds: { min_cpus: 0.5 } };

  it('v2 cpu.max: unlimited -> 80% of the CPUs -> ... -> the bound; relax back up to "max" exactly', async () => {
    const layout = fakeLayout(tmp(), 2);
    const host = SimHost.withCpus(2);
    const real = new RealHost(layout);
    const h: HostView = Object.assign(Object.create(real), { topology: () => host.topology() });
    const io = new SimIo([0, 1]);
    const target = { kind: 'scope' as const, key: '/p' };
    const values: string[] = [];
    for (let i = 0; i < 10; i++) {
      const p = await pressureBackoff.plan(ctx(h, io), params, target, 'step');
      if ('skip' in p) break;
      io.writeSync(p.changes[0]!.knob, p.changes[0]!.new);
      values.push(p.changes[0]!.new);
    }
    expect(values).toEqual([
      '160000 100000',
      '128000 100000',
      '102400 100000',
      '81920 100000',
      '65536 100000',
      '52429 100000',
      '50000 100000',
    ]);
    const knob = { kind: 'file' as const, path: path.join(layout.unified!.mountPoint, 'p/cpu.max') };
    const held: HeldKnob[] = [{ knob, original: 'max 100000', last: '50000 100000', entity: target }];
    const up: string[] = [];
    for (let i = 0; i < 10; i++) {
      const p = await pressureBackoff.plan(ctx(h, io, { held }), params, target, 'relax');
      if ('skip' in p) break;
      io.writeSync(knob, p.changes[0]!.new);
      up.push(p.changes[0]!.new);
      if (p.changes[0]!.new === 'max 100000') break;
    }
    expect(up.at(-1)).toBe('max 100000');
    expect(up.length).toBeLessThan(values.length + 1);
  });

  it('an unlimited group steps down from the CPUs it and its children used in the window, not from the host CPUs', async () => {
    const layout = fakeLayout(tmp(), 2);
    const host = SimHost.withCpus(16);
    const real = new RealHost(layout);
    const h: HostView = Object.assign(Object.create(real), { topology: () => host.topology() });
    const io = new SimIo(host.topology().online);
    const target = { kind: 'scope' as const, key: '/p' };
    // A 500 ms window of 16 CPUs: /p used 1 CPU, /p/a 0.25, /pq (a sibling whose name starts the same) 4.
    const cpuNs = 500e6;
    const window = (cgroups: { cgroup: string; oncpu_ns: number }[]) => ({
      sched: { interval_ms: 500, cpus: host.topology().online.map((cpu) => ({ cpu })), cgroups },
    });
    const busy = window([
      { cgroup: '/p', oncpu_ns: cpuNs },
      { cgroup: '/p/a', oncpu_ns: cpuNs / 4 },
      { cgroup: '/pq', oncpu_ns: 4 * cpuNs },
    ]);
    const first = await pressureBackoff.plan(ctx(h, io, { window: busy }), params, target, 'step');
    expect(changes(first)).toEqual([['cpu.max', 'max 100000', '100000 100000']]); // 0.8 x 1.25 CPUs
    expect('changes' in first && first.changes[0]!.detail).toBe('step CPU quota down unlimited (using 1.25 CPUs) -> 1 CPUs');
    // Without the sched signal in the window: from the host's CPUs, as before.
    expect(changes(await pressureBackoff.plan(ctx(h, io), params, target, 'step'))).toEqual([['cpu.max', 'max 100000', '1280000 100000']]);
    // A group that uses no more than the lower bound: a quota would not slow it.
    const idle = window([{ cgroup: '/p', oncpu_ns: cpuNs * 0.3 }]);
    expect(changes(await pressureBackoff.plan(ctx(h, io, { window: idle }), params, target, 'step'))).toBe(
      '/p uses 0.3 CPUs, no more than the lower bound (0.5 CPUs): a quota would not slow it',
    );
    // Once limited, the next step is from the quota (what it uses then is the quota's doing).
    io.writeSync({ kind: 'file', path: path.join(layout.unified!.mountPoint, 'p/cpu.max') }, '100000 100000');
    expect(changes(await pressureBackoff.plan(ctx(h, io, { window: idle }), params, target, 'step'))).toEqual([
      ['cpu.max', '100000 100000', '80000 100000'],
    ]);
  });

  it('v1 cpu.cfs_quota_us with a hook level; never the root cgroup; a PID scope has no quota', async () => {
    const layout = fakeLayout(tmp(), 1);
    const host = new RealHost(layout);
    const io = new SimIo(host.topology().online);
    const withHook = { ...params, hook: { command: ['/bin/true', '--level', '{level}', '--for', '{target}'] } };
    const p = await pressureBackoff.plan(ctx(host, io), withHook, { kind: 'scope', key: '/p' }, 'step');
    expect('changes' in p && p.changes.map((c) => [c.knob.kind, c.old, c.new])).toEqual([
      ['file', '-1', String(Math.round(host.topology().online.length * 0.8 * 100000))],
      ['hook', '0', '1'],
    ]);
    const hook = 'changes' in p ? p.changes[1]!.knob : undefined;
    expect(hook).toMatchObject({ kind: 'hook', argv: ['/bin/true', '--level', '{level}', '--for', '/p'] });
    expect(changes(await pressureBackoff.plan(ctx(host, io, { scopeCgroup: '/' }), params, { kind: 'scope', key: '/' }, 'step'))).toMatch(
      /never limits the root cgroup/,
    );
    expect(
      changes(
        await pressureBackoff.plan(
          ctx(host, io, { scopeCgroup: undefined, scopePids: [5] }),
          params,
          { kind: 'scope', key: 'pids' },
          'step',
        ),
      ),
    ).toMatch(/a PID scope has no cgroup quota/);
  });
});

describe('io_prefetch', () => {
  const params = { action: 'io_prefetch' as const, target: 'seq', factor: 2, bounds: { max_kb: 1024 } };

  it('doubles read_ahead_kb up to the bound, only on listed whole disks', async () => {
    const t = tree({ cpus: 2 });
    t.write('sys/block/loop3/queue/read_ahead_kb', '128\n');
    const host = new RealHost(fakeLayout(tmp(), 2), t.sys, t.proc);
    const io = new RealIo();
    const dev = { kind: 'device' as const, key: 'loop3' };
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const p = await ioPrefetch.plan(ctx(host, io), params, dev, 'step');
      if ('skip' in p) {
        seen.push(p.skip);
        break;
      }
      await io.write(p.changes[0]!.knob, p.changes[0]!.new);
      seen.push(p.changes[0]!.new);
    }
    expect(seen).toEqual(['256', '512', '1024', 'readahead of loop3 is at its bound (1024 KiB)']);
    expect(changes(await ioPrefetch.plan(ctx(host, io), { ...params, devices: ['vda'] }, dev, 'step'))).toMatch(
      /not in the action's devices/,
    );
    expect(changes(await ioPrefetch.plan(ctx(host, io), params, { kind: 'device', key: 'vda1' }, 'step'))).toMatch(/a partition\?/);
    expect(changes(await ioPrefetch.plan(ctx(host, io), params, { kind: 'device', key: '../etc' }, 'step'))).toMatch(
      /no \/sys\/block\/\.\.\/etc\/queue/,
    );
  });
});

describe('cpuset_spread', () => {
  it('core groups and CPU sets avoid SMT siblings and are never empty', () => {
    const t = tree({
      cpus: 8,
      siblings: [
        [0, 4],
        [1, 5],
        [2, 6],
        [3, 7],
      ],
    });
    const topo = readTopology(t.sys);
    expect(coreGroups(topo, topo.online, 2, true)).toEqual([
      [0, 2, 4, 6],
      [1, 3, 5, 7],
    ]);
    expect(threadSets(topo, topo.online, 3, 'pin', true)).toEqual([[0], [1], [2]]);
    expect(threadSets(topo, topo.online, 5, 'pin', true)).toEqual([[0], [1], [2], [3], [4]]);
    expect(threadSets(topo, [0, 4], 3, 'spread', true)).toEqual([
      [0, 4],
      [0, 4],
      [0, 4],
    ]);
    expect(threadSets(topo, [], 3, 'spread', true)).toEqual([]);
    for (let n = 1; n <= 10; n++) for (const s of threadSets(topo, [1, 5, 6], n, 'spread', true)) expect(s.length).toBeGreaterThan(0);
  });

  it('spreads the runnable threads of a process (fake /proc), pins in pin mode, skips sleeping-only when spread', async () => {
    const t = tree({
      cpus: 4,
      siblings: [
        [0, 2],
        [1, 3],
      ],
    });
    t.addProcess(50, {
      threads: [
        { tid: 50, state: 'S', allowed: '0' },
        { tid: 51, state: 'R', allowed: '0' },
        { tid: 52, state: 'R', allowed: '0' },
      ],
    });
    const host = new RealHost(fakeLayout(tmp(), 2), t.sys, t.proc);
    const io = new SimIo(
      [0, 1, 2, 3],
      new Map([
        ['affinity of thread 51 (pid 50)', '0'],
        ['affinity of thread 52 (pid 50)', '0'],
      ]),
    );
    const spread = await cpusetSpread.plan(
      ctx(host, io),
      { action: 'cpuset_spread', target: 'q', mode: 'spread' },
      { kind: 'pid', key: '50' },
      'step',
    );
    expect(changes(spread)).toEqual([
      ['affinity', '0', '0,2'],
      ['affinity', '0', '1,3'],
    ]);
    const pin = await cpusetSpread.plan(
      ctx(host, io),
      { action: 'cpuset_spread', target: 'q', mode: 'pin' },
      { kind: 'pid', key: '50' },
      'step',
    );
    // Pin: thread 51 -> CPU 0 (where it already is: no change), thread 52 -> CPU 1 (another core).
    expect(changes(pin)).toEqual([['affinity', '0', '1']]);
  });

  it('widens a cgroup cpuset one core at a time, preferring cores not in the set yet, up to the bound', async () => {
    const t = tree({
      cpus: 4,
      siblings: [
        [0, 2],
        [1, 3],
      ],
    });
    const layout = fakeLayout(tmp(), 1);
    fakeFiles(layout.byController.cpuset!.mountPoint, '/p', { 'cpuset.effective_cpus': '0-3', 'cpuset.cpus': '0-3' });
    const dir = fakeFiles(layout.byController.cpuset!.mountPoint, '/p/app', { 'cpuset.cpus': '0' });
    const host = new RealHost(layout, t.sys, t.proc);
    const io = new RealIo();
    const params = { action: 'cpuset_spread' as const, target: 'scope', mode: 'widen' as const, bounds: { max_cpus: 3 } };
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await cpusetSpread.plan(ctx(host, io), params, { kind: 'cgroup', key: '/p/app' }, 'step');
      if ('skip' in p) {
        seen.push(p.skip);
        break;
      }
      await io.write(p.changes[0]!.knob, p.changes[0]!.new);
      seen.push(p.changes[0]!.new);
    }
    expect(seen).toEqual(['0-1', '0-2', `cpuset.cpus of /p/app is at its bound (3 CPUs)`]);
    void dir;
  });
});

describe('numa_rebalance', () => {
  it('does not apply on a single-node host, and says so', () => {
    const t = tree({ cpus: 2 });
    const host = new RealHost(fakeLayout(tmp(), 2), t.sys, t.proc);
    expect(numaRebalance.applies!(host, { action: 'numa_rebalance', target: 'r' })).toBe(
      'this host has one NUMA node (node0): there is nowhere to move a workload to',
    );
    // This machine: one node.
    expect(numaRebalance.applies!(new RealHost(fakeLayout(tmp(), 2)), { action: 'numa_rebalance', target: 'r' })).toMatch(/one NUMA node/);
  });

  it('moves a process to the node holding most of its pages (fake 2-node tree)', async () => {
    const t = tree({
      cpus: 4,
      nodes: [
        [0, 1],
        [2, 3],
      ],
    });
    t.addProcess(70, {
      threads: [
        { tid: 70, cpu: 2 },
        { tid: 71, cpu: 3 },
      ],
      // Its memory on node 0, and a few pages of a shared library on node 1 (2%: not a split).
      numaMaps: 'a default N0=900\nb file=/lib/x.so N1=20\n',
    });
    const host = new RealHost(fakeLayout(tmp(), 2), t.sys, t.proc);
    expect(numaRebalance.applies!(host, { action: 'numa_rebalance', target: 'r' })).toBeUndefined();
    const io = new SimIo([0, 1, 2, 3], new Map(), (pid) => host.numaPages(pid));
    const p = await numaRebalance.plan(ctx(host, io), { action: 'numa_rebalance', target: 'r' }, { kind: 'pid', key: '70' }, 'step');
    // The threads move to node 0; its pages are there already.
    expect(changes(p)).toEqual([
      ['affinity', '0-3', '0-1'],
      ['affinity', '0-3', '0-1'],
    ]);
    const forced = await numaRebalance.plan(
      ctx(host, io),
      { action: 'numa_rebalance', target: 'r', node: 1 },
      { kind: 'pid', key: '70' },
      'step',
    );
    // The threads first, then the pages, from their one node to the other.
    expect(changes(forced)).toEqual([
      ['affinity', '0-3', '2-3'],
      ['affinity', '0-3', '2-3'],
      ['pages', '0', '1'],
    ]);
    expect('changes' in forced && forced.changes[2]!.knob).toEqual({ kind: 'pages', pid: 70, start: 1070 });
    expect('changes' in forced && forced.changes[2]!.detail).toBe('move the pages of pid 70 to node 1: node 0 (pages N0=900 N1=20) -> 1');
    // Pages split across the nodes stay where they are (migratepages could not put a split back); the threads still move.
    t.addProcess(72, { threads: [{ tid: 72, cpu: 2 }], numaMaps: 'a default N0=600 N1=400\n' });
    const split = await numaRebalance.plan(
      ctx(host, io),
      { action: 'numa_rebalance', target: 'r', node: 0 },
      { kind: 'pid', key: '72' },
      'step',
    );
    expect(changes(split)).toEqual([['affinity', '0-3', '0-1']]);
    await io.write({ kind: 'affinity', pid: 72, tid: 72, start: 1072 }, '0-1');
    const splitAgain = await numaRebalance.plan(
      ctx(host, io),
      { action: 'numa_rebalance', target: 'r', node: 0 },
      { kind: 'pid', key: '72' },
      'step',
    );
    expect(splitAgain).toEqual({
      skip: 'the pages of pid 72 are split across nodes 0-1 (pages N0=600 N1=400): tuner leaves them, since a split cannot be put back as it was',
    });
    const threadsOnly = await numaRebalance.plan(
      ctx(host, io),
      { action: 'numa_rebalance', target: 'r', migrate_pages: false },
      { kind: 'pid', key: '70' },
      'step',
    );
    expect(changes(threadsOnly)).toEqual([
      ['affinity', '0-3', '0-1'],
      ['affinity', '0-3', '0-1'],
    ]);
  });

  it('moves a cgroup: memory_migrate on, then cpuset.mems and cpuset.cpus of the node', async () => {
    const t = tree({
      cpus: 4,
      nodes: [
        [0, 1],
        [2, 3],
      ],
    });
    t.addProcess(80, { numaMaps: 'a default N1=500\n' });
    const layout = fakeLayout(tmp(), 1);
    const mount = layout.byController.cpuset!.mountPoint;
    fakeFiles(mount, '/p', { 'cpuset.effective_cpus': '0-3', 'cpuset.cpus': '0-3' });
    fakeFiles(mount, '/p/db', { 'cpuset.cpus': '0-3', 'cpuset.mems': '0-1', 'cpuset.memory_migrate': '0', 'cgroup.procs': '80' });
    const host = new RealHost(layout, t.sys, t.proc);
    const p = await numaRebalance.plan(
      ctx(host, new RealIo()),
      { action: 'numa_rebalance', target: 'r' },
      { kind: 'cgroup', key: '/p/db' },
      'step',
    );
    expect(changes(p)).toEqual([
      ['cpuset.memory_migrate', '0', '1'],
      ['cpuset.mems', '0-1', '1'],
      ['cpuset.cpus', '0-3', '2-3'],
    ]);
  });
});
