import { describe, expect, it } from 'vitest';
import { readWeight, sharesToWeight, weightText, weightToShares } from '../../src/cgroup/weight.js';

describe('cpu.weight <-> cpu.shares, as systemd converts them', () => {
  it.each([
    [100, 1024],
    [1, 10],
    [10000, 102400],
    [25, 256],
    [2500, 25600],
    [37, 378],
  ])('weight %i -> shares %i', (w, s) => {
    expect(weightToShares(w)).toBe(s);
  });

  it.each([
    [1024, 100],
    [2, 1],
    [262144, 10000],
    [102400, 10000],
    [10, 1],
    [1000, 97],
  ])('shares %i -> weight %i', (s, w) => {
    expect(sharesToWeight(s)).toBe(w);
  });

  it('reads and writes each version', () => {
    expect(readWeight(1, '262144\n')).toBe(10000);
    expect(readWeight(2, '250')).toBe(250);
    expect(weightText(1, 2500)).toBe('25600');
    expect(weightText(2, 2500)).toBe('2500');
    expect(() => readWeight(2, 'max')).toThrow(/not a CPU weight/);
  });
});
