import { describe, expect, it } from 'vitest';
import { bestPower, runsForPower } from '../../src/stats/power.js';

describe('bestPower and runsForPower', () => {
  const at = { sigma: 0.4, factor: 2, threshold: 0.1 };
  it('a 2x change at log sd 0.4: about 76% at 5 runs a side, 95% from 10', () => {
    // Phi(ln(2 / 1.1) / (0.4 sqrt(2/5)) - 1.645) = Phi(0.718) = 0.764
    expect(bestPower(at, 5)).toBeCloseTo(0.764, 2);
    expect(runsForPower(at)).toBe(10);
    expect(bestPower(at, 10)).toBeGreaterThanOrEqual(0.95);
    expect(bestPower(at, 9)).toBeLessThan(0.95);
  });
  it('grows with runs and change, falls with spread', () => {
    expect(bestPower(at, 10)).toBeGreaterThan(bestPower(at, 5));
    expect(bestPower({ ...at, factor: 3 }, 5)).toBeGreaterThan(bestPower(at, 5));
    expect(bestPower({ ...at, sigma: 0.9 }, 5)).toBeLessThan(0.35);
    expect(runsForPower({ ...at, sigma: 0.9 })).toBeGreaterThan(40);
  });
  it('no spread: certain; a change not beyond the threshold: never', () => {
    expect(bestPower({ ...at, sigma: 0 }, 2)).toBe(1);
    expect(bestPower({ ...at, factor: 1.05 }, 100)).toBe(0);
    expect(runsForPower({ ...at, factor: 1.1 })).toBeNull();
  });
});
