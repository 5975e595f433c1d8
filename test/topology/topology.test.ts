import { afterEach, describe, expect, it } from 'vitest';
import { canonicalCpuList, formatCpuList, parseCpuList } from '../../src/topology/cpulist.js';
import { nodeOfCpu, readTopology, spreadOrder } from '../../src/topology/topology.js';
import { fakeTree, type FakeTree } from '../helpers/fake-sys.js';

const trees: FakeTree[] = [];
afterEach(() => {
  for (const t of trees.splice(0)) t.remove();
});

describe('CPU lists', () => {
  it.each([
    ['0-3,8,10-11', [0, 1, 2, 3, 8, 10, 11], '0-3,8,10-11'],
    ['5', [5], '5'],
    ['3,1,2', [1, 2, 3], '1-3'],
    ['', [], ''],
    ['0-1,1-2', [0, 1, 2], '0-2'],
  ])('%j', (text, cpus, canonical) => {
    expect(parseCpuList(text)).toEqual(cpus);
    expect(formatCpuList(cpus)).toBe(canonical);
    expect(canonicalCpuList(text)).toBe(canonical);
  });

  it.each(['a', '3-1', '1,,2', '-1'])('refuses %j', (text) => {
    expect(() => parseCpuList(text)).toThrow(/not a CPU list/);
  });
});

describe('topology from sysfs', () => {
  it('reads cores (SMT siblings) and nodes of a fake 2-node, 8-CPU tree', () => {
    const t = fakeTree({
      cpus: 8,
      nodes: [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
      ],
      siblings: [
        [0, 4],
        [1, 5],
        [2, 6],
        [3, 7],
      ],
    });
    trees.push(t);
    const topo = readTopology(t.sys);
    expect(topo.online).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(topo.cores).toEqual([
      [0, 4],
      [1, 5],
      [2, 6],
      [3, 7],
    ]);
    expect(topo.nodes).toEqual([
      { node: 0, cpus: [0, 1, 2, 3] },
      { node: 1, cpus: [4, 5, 6, 7] },
    ]);
    expect(nodeOfCpu(topo, 6)).toBe(1);
    // One CPU of every core before any second sibling.
    expect(spreadOrder(topo, topo.online)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(spreadOrder(topo, [0, 4, 1])).toEqual([0, 1, 4]);
  });

  it('this host: every online CPU is in exactly one core and one node', () => {
    const topo = readTopology();
    expect(topo.online.length).toBeGreaterThan(0);
    expect(topo.cores.flat().sort((a, b) => a - b)).toEqual(topo.online);
    expect(topo.nodes.flatMap((n) => n.cpus).sort((a, b) => a - b)).toEqual(topo.online);
  });
});
