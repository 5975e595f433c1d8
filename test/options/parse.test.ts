import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseChoice, parseDuration, parsePids, parsePositiveInt } from '../../src/options/parse.js';

describe('parseDuration', () => {
  it.each([
    ['1s', 1000],
    ['250ms', 250],
    ['1.5m', 90_000],
    ['2h', 7_200_000],
    ['500us', 0.5],
  ])('%s', (text, ms) => expect(parseDuration(text, '--interval')).toBe(ms));

  it.each(['1', 'fast', '-1s', '0s', '1 sec', ''])('refuses %j, naming the flag and the value', (text) => {
    expect(() => parseDuration(text, '--interval')).toThrow(UsageError);
    expect(() => parseDuration(text, '--interval')).toThrow(/--interval/);
  });
});

describe('parsePositiveInt', () => {
  it('accepts whole numbers in range', () => expect(parsePositiveInt('20', '--top')).toBe(20));
  it.each(['0', '-3', '2.5', 'x', '1e3'])('refuses %j', (t) => expect(() => parsePositiveInt(t, '--top')).toThrow(/--top: expected/));
});

describe('parsePids', () => {
  it('accepts running processes, comma-separated or repeated, deduplicated', () => {
    expect(parsePids([`${process.pid},1`, String(process.pid)])).toEqual([process.pid, 1]);
  });
  it('refuses a PID that does not exist', () => {
    expect(() => parsePids(['4194303'])).toThrow(/--pid 4194303: no such process/);
  });
  it.each(['abc', '0', '-5', '99999999'])('refuses %j', (v) => expect(() => parsePids([v])).toThrow(UsageError));
});

describe('parseChoice', () => {
  it('names the choices', () => {
    expect(() => parseChoice('bfp', ['bpf', 'bpftrace'] as const, '--backend')).toThrow(
      '--backend: expected one of bpf, bpftrace, got "bfp"',
    );
  });
});
