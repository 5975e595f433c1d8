/** The benchmark's slowdown estimate: each config against the runs with nothing attached around it. */
import { describe, expect, it } from 'vitest';
import { bracketedSlowdowns, roundSequence } from '../../bench/phases/slowdown.js';

describe('roundSequence', () => {
  it('puts a run with nothing attached before, between and after the configs, rotating their order', () => {
    expect(roundSequence(0)).toEqual(['none', 'empty', 'none', 'tuner', 'none', 'bpftrace', 'none']);
    expect(roundSequence(1)).toEqual(['none', 'tuner', 'none', 'bpftrace', 'none', 'empty', 'none']);
    expect(roundSequence(3)).toEqual(roundSequence(0));
  });
});

describe('bracketedSlowdowns', () => {
  const seq = (ops: number[]) => roundSequence(0).map((config, i) => ({ config, opsPerSec: ops[i]! }));

  it('compares each config with the mean of its two neighbours', () => {
    const s = bracketedSlowdowns(seq([100, 97, 100, 96, 100, 85, 100]));
    expect(s.empty).toBeCloseTo(0.03, 12);
    expect(s.tuner).toBeCloseTo(0.04, 12);
    expect(s.bpftrace).toBeCloseTo(0.15, 12);
  });

  it('cancels a steady drift of the machine within the round', () => {
    // Baselines rise 2% per step; each config costs exactly 3% of the speed of its moment.
    const base = (i: number) => 100 * (1 + 0.02 * i);
    const s = bracketedSlowdowns(seq([0, 1, 2, 3, 4, 5, 6].map((i) => (i % 2 ? 0.97 : 1) * base(i))));
    for (const c of ['empty', 'tuner', 'bpftrace'] as const) expect(s[c]).toBeCloseTo(0.03, 12);
  });

  it('skips a config whose neighbours are missing (a run that failed)', () => {
    const runs = seq([100, 97, 100, 96, 100, 85, 100]);
    runs.splice(2, 1); // the baseline between empty and tuner
    const s = bracketedSlowdowns(runs);
    expect(s.empty).toBeUndefined();
    expect(s.tuner).toBeUndefined();
    expect(s.bpftrace).toBeCloseTo(0.15, 12);
  });
});
