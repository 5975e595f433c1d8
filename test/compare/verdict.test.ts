import { describe, expect, it } from 'vitest';
import { decide, type VerdictInput } from '../../src/compare/verdict.js';

const base: VerdictInput = {
  baseMedian: 100,
  newMedian: 100,
  ratio: 1,
  ci: { level: 0.95, ratio: { low: 0.98, high: 1.02 }, diff: { low: -2, high: 2 } },
  pRegressed: 1,
  pImproved: 1,
  separated: null,
  runsNeeded: null,
  runs: 5,
  alpha: 0.05,
  threshold: 0.1,
  floor: 1,
};
const at = (o: Partial<VerdictInput>): VerdictInput => ({ ...base, ...o });
const up = { level: 0.95, ratio: { low: 1.2, high: 1.4 }, diff: { low: 20, high: 40 } };

describe('decide', () => {
  it.each<[string, Partial<VerdictInput>, string, string | null]>([
    ['tight interval around 1', {}, 'unchanged', null],
    ['significantly beyond +10%', { newMedian: 130, ratio: 1.3, pRegressed: 0.001, ci: up }, 'regressed', 'worse'],
    [
      'beyond +10% but not significant, runs overlap',
      { newMedian: 130, ratio: 1.3, pRegressed: 0.2, ci: { level: 0.95, ratio: { low: 0.9, high: 1.8 }, diff: { low: -10, high: 80 } } },
      'too-noisy',
      null,
    ],
    [
      'beyond +10%, every NEW run above every BASE run, not significant',
      { newMedian: 130, ratio: 1.3, pRegressed: 0.2, separated: 'worse', runsNeeded: 8, ci: up },
      'needs-more-runs',
      'worse',
    ],
    [
      'every NEW run below every BASE run, not significant',
      {
        newMedian: 70,
        ratio: 0.7,
        pImproved: 0.2,
        separated: 'better',
        ci: { level: 0.95, ratio: { low: 0.6, high: 0.8 }, diff: { low: -40, high: -20 } },
      },
      'needs-more-runs',
      'better',
    ],
    [
      'runs overlap, but the family-level interval lies wholly beyond +10%, not significant',
      { newMedian: 200, ratio: 2, pRegressed: 0.09, runsNeeded: 9, consistency: { level: 0.9875, low: 1.2, high: 2.9 } },
      'needs-more-runs',
      'worse',
    ],
    [
      'the same without a family-level interval (the earlier design): the 95% interval alone does not make it consistent',
      { newMedian: 200, ratio: 2, pRegressed: 0.09, ci: { level: 0.95, ratio: { low: 1.3, high: 2.6 }, diff: { low: 30, high: 160 } } },
      'too-noisy',
      null,
    ],
    [
      'runs overlap, the family-level interval lies wholly below -9.1%, not significant',
      { newMedian: 50, ratio: 0.5, pImproved: 0.09, consistency: { level: 0.9875, low: 0.4, high: 0.85 } },
      'needs-more-runs',
      'better',
    ],
    [
      'the family-level interval reaches the threshold: too-noisy',
      { newMedian: 200, ratio: 2, pRegressed: 0.09, ci: up, consistency: { level: 0.9875, low: 1.1, high: 2.6 } },
      'too-noisy',
      null,
    ],
    [
      'separated and significant: regressed, not needs-more-runs',
      { newMedian: 130, ratio: 1.3, pRegressed: 0.001, separated: 'worse', ci: up },
      'regressed',
      'worse',
    ],
    [
      'separated but the median is within the threshold',
      {
        newMedian: 108,
        ratio: 1.08,
        pRegressed: 0.2,
        separated: 'worse',
        ci: { level: 0.95, ratio: { low: 1.05, high: 1.09 }, diff: { low: 5, high: 9 } },
      },
      'unchanged',
      null,
    ],
    [
      'significant, medians lower (NEW met a quieter machine), but 2x at equal load: regressed',
      {
        newMedian: 50,
        ratio: 0.5,
        pRegressed: 0.001,
        loadRatio: 2,
        ci: { level: 0.95, ratio: { low: 0.3, high: 0.9 }, diff: { low: -70, high: -10 } },
      },
      'regressed',
      'worse',
    ],
    [
      'significant, median within the threshold, and within it at equal load too',
      {
        newMedian: 108,
        ratio: 1.08,
        pRegressed: 0.01,
        loadRatio: 1.05,
        ci: { level: 0.95, ratio: { low: 1.05, high: 1.09 }, diff: { low: 5, high: 9 } },
      },
      'unchanged',
      null,
    ],
    [
      'at equal load beyond the threshold but below the floor',
      {
        baseMedian: 0.5,
        newMedian: 0.5,
        ratio: 1,
        pRegressed: 0.001,
        loadRatio: 2,
        ci: { level: 0.95, ratio: { low: 0.9, high: 1.1 }, diff: { low: -0.1, high: 0.1 } },
      },
      'unchanged',
      null,
    ],
    [
      'significant but the median is within the threshold',
      { newMedian: 108, ratio: 1.08, pRegressed: 0.01, ci: { level: 0.95, ratio: { low: 1.05, high: 1.09 }, diff: { low: 5, high: 9 } } },
      'unchanged',
      null,
    ],
    [
      'beyond the threshold but below the floor',
      {
        baseMedian: 0,
        newMedian: 0.5,
        ratio: Infinity,
        pRegressed: 0.001,
        ci: { level: 0.95, ratio: { low: Infinity, high: Infinity }, diff: { low: 0.2, high: 0.8 } },
      },
      'unchanged',
      null,
    ],
    [
      'from zero, above the floor, significant',
      {
        baseMedian: 0,
        newMedian: 50,
        ratio: Infinity,
        pRegressed: 0.001,
        ci: { level: 0.95, ratio: { low: Infinity, high: Infinity }, diff: { low: 40, high: 60 } },
      },
      'regressed',
      'worse',
    ],
    [
      'significantly better',
      { newMedian: 70, ratio: 0.7, pImproved: 0.001, ci: { level: 0.95, ratio: { low: 0.65, high: 0.75 }, diff: { low: -35, high: -25 } } },
      'improved',
      'better',
    ],
    [
      'wide interval, no claim',
      { newMedian: 103, ratio: 1.03, ci: { level: 0.95, ratio: { low: 0.8, high: 1.3 }, diff: { low: -20, high: 30 } } },
      'too-noisy',
      null,
    ],
    [
      'significant p but ratio exactly at the threshold',
      { newMedian: 110, ratio: 1.1, pRegressed: 0.001, ci: { level: 0.95, ratio: { low: 1.05, high: 1.15 }, diff: { low: 5, high: 15 } } },
      'too-noisy',
      null,
    ],
  ])('%s -> %s', (_name, o, want, direction) => {
    const d = decide(at(o));
    expect(d.verdict).toBe(want);
    expect(d.direction).toBe(direction);
    expect(d.reason.length).toBeGreaterThan(5);
  });

  it('needs-more-runs says how many runs would do', () => {
    const d = decide(at({ newMedian: 130, ratio: 1.3, pRegressed: 0.2, separated: 'worse', runsNeeded: 8, ci: up }));
    expect(d.reason).toMatch(/every NEW run is above every BASE run by more than 10%.*--repeat 8/);
    const i = decide(
      at({
        newMedian: 200,
        ratio: 2,
        pRegressed: 0.09,
        runsNeeded: 9,
        consistency: { level: 0.9875, low: 1.3, high: 2.6 },
      }),
    );
    expect(i.reason).toMatch(/98\.8% CI \(\+30\.0% \.\. \+160\.0%\) lies wholly above \+10%.*--repeat 9/);
  });
});
