import { describe, expect, it } from 'vitest';
import { hostLoad } from '../../src/record/run.js';
import { dumpKeys } from '../../src/record/probes.js';

describe('hostLoad', () => {
  const before = [
    { cpu: 0, busy: 100, total: 1000 },
    { cpu: 1, busy: 100, total: 1000 },
  ];
  it('busy share of all CPUs, and the part the workload does not explain', () => {
    // 100 jiffies per CPU elapsed; CPU 0 fully busy, CPU 1 half: 75% busy.
    const after = [
      { cpu: 0, busy: 200, total: 1100 },
      { cpu: 1, busy: 150, total: 1100 },
    ];
    // The workload used one CPU for the whole second: 50% of two CPUs; the other 25% was other work.
    expect(hostLoad(before, after, 1e9, 1e9)).toEqual({ 'host.busy_pct': 75, 'host.other_busy_pct': 25 });
    expect(hostLoad(before, after, 1e9)).toEqual({ 'host.busy_pct': 75 });
  });
  it('nothing when no time passed', () => {
    expect(hostLoad(before, before, 1e9, 0)).toEqual({});
  });
});

describe('dumpKeys', () => {
  it('reads the keys of a BTF-less hash map dump as hex words', () => {
    expect(dumpKeys([{ key: ['0x39', '0x30', '0x0', '0x00'], value: ['0x01'] }])).toEqual([['39', '30', '00', '00']]);
  });
});
