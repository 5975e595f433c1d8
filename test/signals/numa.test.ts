import { afterEach, describe, expect, it } from 'vitest';
import { lastCpuOf, openNuma, parseNumaMaps, parseNumastat, readNuma } from '../../src/signals/numa/procfs.js';
import { buildNumaRecord } from '../../src/signals/numa/record.js';
import { fakeTree, type FakeTree } from '../helpers/fake-sys.js';

const trees: FakeTree[] = [];
afterEach(() => {
  for (const t of trees.splice(0)) t.remove();
});

describe('numa signal', () => {
  it('parses numastat, numa_maps and the last CPU of a thread', () => {
    expect(parseNumastat('numa_hit 10\nnuma_miss 2\nother_node 3\n')).toMatchObject({
      numa_hit: 10,
      numa_miss: 2,
      other_node: 3,
      local_node: 0,
    });
    expect(parseNumaMaps('7f00 default anon=3 N0=2 N1=1 kernelpagesize_kB=4\n7f01 bind:1 N1=5\n')).toEqual(
      new Map([
        [0, 2],
        [1, 6],
      ]),
    );
    const stat = '42 (a b) c) S 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777 ' + '0 '.repeat(16) + '3 0 0';
    expect(lastCpuOf(stat)).toBe(3);
  });

  it('builds per-node deltas and per-process placement from a fake 2-node tree', () => {
    const t = fakeTree({
      cpus: 4,
      nodes: [
        [0, 1],
        [2, 3],
      ],
    });
    trees.push(t);
    // Threads run on node 1 (CPU 2, 3) but most pages sit on node 0: remote.
    t.addProcess(100, {
      comm: 'db',
      threads: [
        { tid: 100, cpu: 2 },
        { tid: 101, cpu: 3 },
      ],
      numaMaps: 'a default N0=300 N1=100\n',
    });
    const reader = openNuma({ pids: [100] }, { sysRoot: t.sys, procRoot: t.proc });
    t.write(
      'sys/devices/system/node/node0/numastat',
      'numa_hit 90\nnuma_miss 10\nnuma_foreign 0\ninterleave_hit 0\nlocal_node 80\nother_node 20\n',
    );
    const rec = buildNumaRecord(reader.read(), new Date('2026-01-01T00:00:00Z'));
    expect(rec.signal).toBe('numa');
    expect(rec.nodes[0]).toMatchObject({ node: 0, cpus: '0-1', numa_hit: 90, numa_miss: 10, miss_pct: 10, other_pct: 20 });
    expect(rec.nodes[1]).toMatchObject({ node: 1, cpus: '2-3', numa_hit: 0, miss_pct: 0 });
    expect(rec.procs).toEqual([
      {
        pid: 100,
        comm: 'db',
        pages: { '0': 300, '1': 100 },
        total_pages: 400,
        run_node: 1,
        home_node: 0,
        remote_pages: 300,
        remote_pct: 75,
      },
    ]);
  });

  it('lists only scope processes, none for the whole host', () => {
    const t = fakeTree({ cpus: 2 });
    trees.push(t);
    t.addProcess(7, { numaMaps: 'a default N0=1\n' });
    expect(readNuma({}, { sysRoot: t.sys, procRoot: t.proc }).procs).toEqual([]);
    expect(readNuma({ pids: [7, 8] }, { sysRoot: t.sys, procRoot: t.proc }).procs.map((p) => p.pid)).toEqual([7]);
  });

  it('reads this host (one node here) without error', () => {
    const snap = readNuma({ pids: [process.pid] });
    expect(snap.nodes.length).toBeGreaterThanOrEqual(1);
    expect(snap.procs[0]?.pid).toBe(process.pid);
    expect([...snap.procs[0]!.pages.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});
