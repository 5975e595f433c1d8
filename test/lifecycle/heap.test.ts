import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { boundOldGeneration, collectionDue, GROWTH_BYTES, oldGenerationUsed, runsUntilStopped } from '../../src/lifecycle/heap.js';

describe('runsUntilStopped', () => {
  it.each([
    [['run', 'r.yaml', '--apply', '--watch'], true],
    [['run', 'r.yaml', '--apply'], false],
    [['run', 'r.yaml', '--duration', '5m'], false],
    [['watch', 'sched'], true],
    [['agent', '--config', 'a.yaml'], true],
    [['revert'], false],
    [['diagnose', '--pid', '1'], false],
    [[], false],
  ])('%j -> %s', (args, expected) => {
    expect(runsUntilStopped(args)).toBe(expected);
  });
});

describe('collectionDue', () => {
  it('is due only when the old generation grew by more than the step since the last collection', () => {
    expect(collectionDue(10e6 + GROWTH_BYTES + 1, 10e6)).toBe(true);
    expect(collectionDue(10e6 + GROWTH_BYTES, 10e6)).toBe(false);
    expect(collectionDue(9e6, 10e6)).toBe(false);
    expect(collectionDue(12e6, 10e6, 4e6)).toBe(false);
  });
});

describe('boundOldGeneration', () => {
  it('collects once promoted objects are garbage, and the old generation comes back down', async () => {
    // Objects that survive young-generation collections (more allocation meanwhile) are promoted, then dropped.
    let kept: Array<{ i: number; s: string }> = [];
    for (let i = 0; i < 300_000; i++) kept.push({ i, s: `x${i}` });
    for (let round = 0; round < 20; round++) {
      const churn: number[][] = [];
      for (let i = 0; i < 20_000; i++) churn.push([i, i]);
    }
    const promoted = oldGenerationUsed();
    kept = [];
    const bound = boundOldGeneration({ everyMs: 20, growth: 0 });
    try {
      for (let i = 0; i < 100 && bound.collections() === 0; i++) await sleep(20);
      expect(bound.collections()).toBeGreaterThan(0);
      // 300,000 small objects are well over 10 MB: far more than anything else this test allocates.
      expect(promoted - oldGenerationUsed()).toBeGreaterThan(8 * 1024 * 1024);
    } finally {
      bound.stop();
    }
    expect(kept).toHaveLength(0);
  });
});
