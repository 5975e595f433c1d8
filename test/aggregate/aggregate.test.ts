import { describe, expect, it } from 'vitest';
import { Ewma } from '../../src/aggregate/ewma.js';
import { RollingWindow } from '../../src/aggregate/window.js';
import { BurstDetector } from '../../src/aggregate/burst.js';

describe('Ewma', () => {
  it.each([
    // [alpha, samples, mean after]
    [0.5, [10], 10],
    [0.5, [10, 20], 15],
    [0.5, [10, 20, 20], 17.5],
    [1, [3, 7, 9], 9],
    [0.1, [100, 100, 100], 100],
  ])('alpha %f over %j -> %f', (alpha, xs, want) => {
    const e = new Ewma(alpha);
    for (const x of xs) e.update(x);
    expect(e.mean).toBeCloseTo(want, 10);
  });

  it('variance is zero on a constant series and grows with spread', () => {
    const flat = new Ewma(0.3);
    const noisy = new Ewma(0.3);
    for (let i = 0; i < 50; i++) {
      flat.update(5);
      noisy.update(i % 2 ? 0 : 10);
    }
    expect(flat.variance).toBe(0);
    expect(noisy.stddev).toBeGreaterThan(4);
  });

  it('half-life: a step is half absorbed after that many samples', () => {
    const e = Ewma.fromHalfLife(4);
    e.update(0);
    for (let i = 0; i < 4; i++) e.update(100);
    expect(e.mean).toBeCloseTo(50, 6);
  });

  it('refuses an alpha outside (0, 1]', () => {
    expect(() => new Ewma(0)).toThrow(RangeError);
    expect(() => new Ewma(1.5)).toThrow(RangeError);
  });
});

describe('RollingWindow', () => {
  it('keeps the last N samples and their spread', () => {
    const w = new RollingWindow(3);
    expect(w.stddev()).toBeUndefined();
    [1, 2, 3, 4, 5].forEach((x) => w.push(x));
    expect(w.values()).toEqual([3, 4, 5]);
    expect(w.length).toBe(3);
    expect(w.stddev()).toBe(1);
  });
});

describe('BurstDetector', () => {
  /** Deterministic noise: a steady rate of 1000 +- 5%. */
  const steady = (n: number, seed = 1): number[] => {
    let s = seed;
    return Array.from({ length: n }, () => {
      s = (s * 16807) % 2147483647;
      return 1000 * (0.95 + 0.1 * (s / 2147483647));
    });
  };

  it('does not flag a steady rate', () => {
    const d = new BurstDetector();
    const flagged = steady(500).map((x) => d.observe(x).burst);
    expect(flagged.filter(Boolean)).toHaveLength(0);
  });

  it('flags a burst injected into the steady rate, and only it', () => {
    const d = new BurstDetector();
    const xs = steady(60);
    for (let i = 30; i < 35; i++) xs[i] = 3000;
    const flagged = xs
      .map((x, i) => [i, d.observe(x).burst] as const)
      .filter(([, b]) => b)
      .map(([i]) => i);
    expect(flagged).toEqual([30, 31, 32, 33, 34]);
  });

  it('ignores a small rise, even over a near-constant baseline', () => {
    const d = new BurstDetector();
    for (let i = 0; i < 20; i++) d.observe(100);
    expect(d.observe(120).burst).toBe(false);
    expect(d.observe(200).burst).toBe(true);
  });

  it('adapts to a new level after a long run of "bursts"', () => {
    const d = new BurstDetector({ adaptAfter: 5 });
    steady(20).forEach((x) => d.observe(x));
    const v = Array.from({ length: 40 }, () => d.observe(5000).burst);
    expect(v.slice(0, 5).every(Boolean)).toBe(true);
    expect(v.slice(-5).some(Boolean)).toBe(false);
  });

  it('gives no verdict during warm-up', () => {
    const d = new BurstDetector({ warmup: 3 });
    expect([d.observe(1), d.observe(1), d.observe(1000)].map((v) => v.burst)).toEqual([false, false, false]);
  });
});
