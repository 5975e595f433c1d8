import { describe, expect, it } from 'vitest';
import { ThresholdDetector, type DetectorSpec } from '../../src/detect/detector.js';

const rec = (v: number) => ({ psi: { signal: 'psi', cpu: { some_pct: v } } });
const spec = (o: Partial<DetectorSpec>): DetectorSpec => ({
  name: 'd',
  signal: 'psi.cpu.some_pct',
  op: 'above',
  threshold: 50,
  clear: 30,
  for: 1,
  clearFor: 1,
  ...o,
});
const activity = (d: ThresholdDetector, xs: number[]): boolean[] =>
  xs.map((x) => {
    d.update(rec(x));
    return d.active().length > 0;
  });

describe('detector smoothing and bursts', () => {
  it.each([
    { name: 'raw: one spike triggers', spec: spec({}), xs: [10, 90, 10, 10], want: [false, true, false, false] },
    {
      name: 'smoothed (half-life 2): one spike does not',
      spec: spec({ smooth: 2 }),
      xs: [10, 90, 10, 10],
      want: [false, false, false, false],
    },
    // EWMA 10 -> 33.4 -> 50.0 -> 61.7 (> 50) -> 46.5 -> 35.8 -> 28.1 (< 30)
    {
      name: 'smoothed: a sustained rise does, two windows late, and clears late',
      spec: spec({ smooth: 2 }),
      xs: [10, 90, 90, 90, 10, 10, 10, 10],
      want: [false, false, false, true, true, true, false, false],
    },
    {
      name: 'burst: a jump over the moving baseline triggers, and clears once back under it',
      spec: spec({ threshold: NaN, clear: NaN, burst: { k: 4, minRise: 0.5, halfLife: 10 } }),
      xs: [10, 11, 10, 9, 10, 11, 40, 10, 10],
      want: [false, false, false, false, false, false, true, false, false],
    },
    {
      name: 'burst: a slow drift is not a burst',
      spec: spec({ threshold: NaN, clear: NaN, burst: { k: 4, minRise: 0.5, halfLife: 10 } }),
      xs: [10, 11, 12, 13, 14, 15, 16, 17, 18],
      want: [false, false, false, false, false, false, false, false, false],
    },
  ])('$name', ({ spec: s, xs, want }) => {
    expect(activity(new ThresholdDetector(s), xs)).toEqual(want);
  });

  it('a burst detector reports the threshold in force', () => {
    const d = new ThresholdDetector(spec({ threshold: NaN, clear: NaN, burst: { k: 4, minRise: 0.5, halfLife: 10 } }));
    for (const x of [10, 10, 10, 10, 10, 40]) d.update(rec(x));
    expect(d.active()[0]?.threshold).toBeCloseTo(15, 6);
  });
});
