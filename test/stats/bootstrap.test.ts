import { describe, expect, it } from 'vitest';
import { bootstrapMedianChange, medianRatio } from '../../src/stats/bootstrap.js';

describe('medianRatio', () => {
  it.each([
    [100, 110, 1.1],
    [0, 0, 1],
    [0, 5, Infinity],
    [50, 0, 0],
  ])('%d -> %d = %d', (b, n, want) => expect(medianRatio(b, n)).toBeCloseTo(want, 12));
});

describe('bootstrapMedianChange', () => {
  const base = [100, 101, 99, 102, 98, 100, 101, 99];
  const slower = base.map((v) => v * 1.3);

  it('is deterministic for a seed', () => {
    const a = bootstrapMedianChange(base, slower, { level: 0.95, seed: 42 });
    const b = bootstrapMedianChange(base, slower, { level: 0.95, seed: 42 });
    expect(a).toEqual(b);
  });

  it('brackets the true ratio of a clean 30% shift, and excludes 1', () => {
    const ci = bootstrapMedianChange(base, slower, { level: 0.95, seed: 1 });
    expect(ci.ratio.low).toBeLessThanOrEqual(1.3);
    expect(ci.ratio.high).toBeGreaterThanOrEqual(1.3);
    expect(ci.ratio.low).toBeGreaterThan(1.2);
    expect(ci.diff.low).toBeGreaterThan(20);
  });

  it('brackets 1 for two samples of the same values', () => {
    const ci = bootstrapMedianChange(base, [...base].reverse(), { level: 0.95, seed: 3 });
    expect(ci.ratio.low).toBeLessThanOrEqual(1);
    expect(ci.ratio.high).toBeGreaterThanOrEqual(1);
    expect(ci.ratio.high).toBeLessThan(1.05);
  });

  it('collapses to [1, 1] for constant samples and handles zeros', () => {
    const ci = bootstrapMedianChange([0, 0, 0], [0, 0, 0], { level: 0.95, seed: 3 });
    expect(ci.ratio).toEqual({ low: 1, high: 1 });
    expect(ci.diff).toEqual({ low: 0, high: 0 });
    const fromZero = bootstrapMedianChange([0, 0, 0], [5, 6, 7], { level: 0.95, seed: 3 });
    expect(fromZero.ratio.low).toBe(Infinity);
  });

  it('a wider level gives a wider interval', () => {
    const noisy = [90, 120, 100, 80, 130, 95, 105];
    const n90 = bootstrapMedianChange(
      noisy,
      noisy.map((v) => v * 1.05),
      { level: 0.9, seed: 9 },
    );
    const n99 = bootstrapMedianChange(
      noisy,
      noisy.map((v) => v * 1.05),
      { level: 0.99, seed: 9 },
    );
    expect(n99.ratio.low).toBeLessThanOrEqual(n90.ratio.low);
    expect(n99.ratio.high).toBeGreaterThanOrEqual(n90.ratio.high);
  });
});
