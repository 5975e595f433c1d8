import { describe, expect, it } from 'vitest';
import { PRIMARY_METRICS, selectMetrics } from '../../src/compare/select.js';
import { UsageError } from '../../src/errors.js';

const base = ['wall_ns', 'cpu_ns', 'sched.runq_wait_ns', 'sched.runq_p99_us', 'psi.cpu_some_us'];
const next = ['wall_ns', 'cpu_ns', 'sched.runq_wait_ns', 'sched.runq_p99_us', 'futex.wait_ns'];

describe('selectMetrics', () => {
  it('compares every common metric, gates the time totals by default, and names the rest', () => {
    const s = selectMetrics(base, next);
    expect(s.metrics).toEqual(['wall_ns', 'cpu_ns', 'sched.runq_wait_ns', 'sched.runq_p99_us']);
    expect(s.gated).toEqual(['wall_ns', 'cpu_ns', 'sched.runq_wait_ns']);
    expect(s.gated.every((m) => (PRIMARY_METRICS as readonly string[]).includes(m))).toBe(true);
    expect(s.onlyBase).toEqual(['psi.cpu_some_us']);
    expect(s.onlyNew).toEqual(['futex.wait_ns']);
  });
  it('gates everything when the profiles have none of the time totals', () => {
    expect(selectMetrics(['x.a', 'x.b'], ['x.a', 'x.b']).gated).toEqual(['x.a', 'x.b']);
  });
  it.each([
    [['wall'], ['wall_ns']],
    [['sched'], ['sched.runq_wait_ns', 'sched.runq_p99_us']],
    [['sched.*_us'], ['sched.runq_p99_us']],
    [['cpu_ns,wall_ns'], ['wall_ns', 'cpu_ns']],
    [['*wait*'], ['sched.runq_wait_ns']],
    [['*'], ['wall_ns', 'cpu_ns', 'sched.runq_wait_ns', 'sched.runq_p99_us']],
  ])('--metrics %j gates %j and still compares all', (patterns, want) => {
    const s = selectMetrics(base, next, patterns);
    expect(s.gated).toEqual(want);
    expect(s.metrics).toHaveLength(4);
  });
  it('refuses a pattern that matches nothing, or only one side', () => {
    expect(() => selectMetrics(base, next, ['nope'])).toThrow(UsageError);
    expect(() => selectMetrics(base, next, ['nope'])).toThrow(/no such metric \(recorded: wall_ns/);
    expect(() => selectMetrics(base, next, ['futex'])).toThrow(/futex.wait_ns is recorded in only one of the profiles/);
  });
});
