import { describe, expect, it } from 'vitest';
import { checkSignals, recordableSignals } from '../../src/record/signals.js';
import { parseAlpha, parseCount, parsePercent } from '../../src/compare/options.js';
import { UsageError } from '../../src/errors.js';

describe('checkSignals', () => {
  const now = ['sched', 'psi'];
  it('accepts available record signals, comma-separated or repeated, deduplicated', () => {
    expect(checkSignals(['sched,psi', 'sched'], now)).toEqual(['sched', 'psi']);
  });
  it('names a signal that is not available yet', () => {
    expect(() => checkSignals(['futex'], now)).toThrow(/"futex" is not available in this tuner yet \(record can use: sched, psi\)/);
  });
  it('names a live-only view and an unknown signal', () => {
    expect(() => checkSignals(['events'], [...now, 'events'])).toThrow(/live view that record does not summarise/);
    expect(() => checkSignals(['bogus'], now)).toThrow(/not a signal tuner knows/);
  });
  it('the default is every record signal this build has, in order', () => {
    expect(recordableSignals(['psi', 'events', 'io', 'sched', 'futex', 'numa'])).toEqual(['sched', 'futex', 'io', 'psi']);
  });
});

describe('option parsers', () => {
  it.each([
    ['10%', 0.1],
    ['2.5%', 0.025],
    [' 50 % ', 0.5],
  ])('parsePercent(%j) = %d', (t, v) => expect(parsePercent(t, '--threshold')).toBeCloseTo(v, 12));
  it.each(['10', '0.1', '-5%', '0%', 'ten%'])('parsePercent refuses %j', (t) =>
    expect(() => parsePercent(t, '--threshold')).toThrow(UsageError),
  );
  it('parseAlpha', () => {
    expect(parseAlpha('0.05')).toBe(0.05);
    expect(parseAlpha('.01')).toBe(0.01);
    for (const bad of ['0', '1', '0.7', '5%', 'x']) expect(() => parseAlpha(bad)).toThrow(/--alpha: expected a probability/);
  });
  it('parseCount allows 0', () => {
    expect(parseCount('0', '--warmup')).toBe(0);
    expect(() => parseCount('-1', '--warmup')).toThrow(UsageError);
  });
});
