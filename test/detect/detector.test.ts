import { describe, expect, it } from 'vitest';
import { evaluate, namesIn, positiveNames, renderCondition } from '../../src/detect/condition.js';
import { ThresholdDetector, type DetectorSpec } from '../../src/detect/detector.js';
import { entityOf, parsePath, SIGNAL_PATHS } from '../../src/detect/paths.js';
import { samplesOf } from '../../src/detect/samples.js';

const spec = (o: Partial<DetectorSpec> = {}): DetectorSpec => ({
  name: 'd',
  signal: 'psi.cpu.some_avg10',
  op: 'above',
  threshold: 40,
  clear: 10,
  for: 2,
  clearFor: 1,
  ...o,
});
const psi = (v: number | null) => ({ psi: { signal: 'psi', cpu: v === null ? null : { some_avg10: v } } });

describe('signal paths', () => {
  it('splits paths into signal, collection and field', () => {
    expect(parsePath('sched.cgroups.wait_share')).toEqual({
      family: 'sched',
      collection: 'cgroups',
      entity: 'cgroup',
      field: ['wait_share'],
    });
    expect(parsePath('psi.cpu.some_avg10')).toEqual({ family: 'psi', entity: 'scope', field: ['cpu', 'some_avg10'] });
    expect(parsePath('psi.cgroups.io.full_pct')).toEqual({
      family: 'psi',
      collection: 'cgroups',
      entity: 'unified',
      field: ['io', 'full_pct'],
    });
    expect(entityOf('io.devices.read_lat.p99_us')).toBe('device');
    expect(new Set(SIGNAL_PATHS.map((p) => p.path)).size).toBe(SIGNAL_PATHS.length);
  });

  it('reads values from records, with derived shares', () => {
    const sched = {
      signal: 'sched',
      interval_ms: 1000,
      cpus: [{ cpu: 0 }, { cpu: 1 }],
      runq: { p99_us: 120 },
      cgroups: [
        { cgroup: '/p/hog', oncpu_ns: 1.5e9, runq_wait_ns: 1e9, wait_share: 0.4 },
        { cgroup: '/p/victim', oncpu_ns: 0.5e9, runq_wait_ns: 1.5e9, wait_share: 0.75 },
      ],
      procs: [{ pid: 7, oncpu_ns: 1e9, runq_wait_ns: 3e9 }],
    };
    expect(samplesOf('sched.cgroups.wait_share', { sched })).toEqual([
      { entity: { kind: 'cgroup', key: '/p/hog' }, value: 0.4 },
      { entity: { kind: 'cgroup', key: '/p/victim' }, value: 0.75 },
    ]);
    expect(samplesOf('sched.cgroups.cpu_share', { sched }).map((s) => s.value)).toEqual([0.75, 0.25]);
    expect(samplesOf('sched.cgroups.machine_share', { sched }).map((s) => s.value)).toEqual([0.75, 0.25]);
    expect(samplesOf('sched.procs.wait_share', { sched })).toEqual([{ entity: { kind: 'pid', key: '7' }, value: 0.75 }]);
    expect(samplesOf('sched.runq.p99_us', { sched })).toEqual([{ entity: { kind: 'scope', key: 'scope' }, value: 120 }]);
    expect(samplesOf('psi.cpu.some_avg10', { sched })).toEqual([]);
    expect(
      samplesOf('io.devices.read_lat.p99_us', {
        io: {
          devices: [
            { dev: 'loop0', read_lat: { p99_us: null } },
            { dev: 'vda', read_lat: { p99_us: 900 } },
          ],
        },
      }),
    ).toEqual([{ entity: { kind: 'device', key: 'vda' }, value: 900 }]);
  });
});

describe('threshold detector', () => {
  it.each([
    // values, for, expected activity after each window
    { name: 'needs `for` windows in a row', values: [50, 50, 50], for: 2, active: [false, true, true] },
    { name: 'a dip resets the count', values: [50, 20, 50, 50], for: 2, active: [false, false, false, true] },
    {
      name: 'hysteresis: stays active between clear and trigger',
      values: [50, 50, 30, 15, 11],
      for: 2,
      active: [false, true, true, true, true],
    },
    { name: 'clears below the clear threshold', values: [50, 50, 9, 50], for: 2, active: [false, true, false, false] },
    { name: 'a missing value counts toward clearing', values: [50, 50, null], for: 2, active: [false, true, false] },
    { name: 'exactly at the threshold does not trigger', values: [40, 40, 40], for: 1, active: [false, false, false] },
  ])('$name', ({ values, for: n, active }) => {
    const d = new ThresholdDetector(spec({ for: n }));
    const got = values.map((v) => {
      d.update(psi(v));
      return d.active().length > 0;
    });
    expect(got).toEqual(active);
  });

  it('below: triggers under the threshold, clears above the clear one; clear_for windows', () => {
    const d = new ThresholdDetector(spec({ op: 'below', threshold: 20, clear: 50, for: 1, clearFor: 2 }));
    const got = [10, 30, 60, 60, 10].map((v) => {
      d.update(psi(v));
      return d.active().length > 0;
    });
    expect(got).toEqual([true, true, true, false, true]);
  });

  it('tracks entities separately and counts held windows', () => {
    const d = new ThresholdDetector(spec({ signal: 'sched.cgroups.wait_share', threshold: 0.4, clear: 0.2, for: 1 }));
    const rec = (a: number, b: number) => ({
      sched: {
        cgroups: [
          { cgroup: '/a', wait_share: a },
          { cgroup: '/b', wait_share: b },
        ],
      },
    });
    d.update(rec(0.9, 0.1));
    d.update(rec(0.9, 0.9));
    expect(d.active().map((s) => [s.entity.key, s.heldWindows])).toEqual([
      ['/a', 2],
      ['/b', 1],
    ]);
  });
});

describe('conditions', () => {
  const dets = new Map<string, ThresholdDetector>();
  for (const [name, v] of [
    ['hot', 90],
    ['cold', 0],
  ] as const) {
    const d = new ThresholdDetector(spec({ name, for: 1 }));
    d.update(psi(v));
    dets.set(name, d);
  }
  it.each([
    ['hot', true],
    ['cold', false],
    [{ all: ['hot', 'cold'] }, false],
    [{ any: ['hot', 'cold'] }, true],
    [{ not: 'cold' }, true],
    [{ all: ['hot', { not: { any: ['cold'] } }] }, true],
    ['missing', false],
  ] as const)('%j -> %s', (c, want) => {
    expect(evaluate(c as never, dets)).toBe(want);
  });

  it("evaluated for a scope target (a relax of the scope cgroup's knob): a scope-wide detector holds whatever the scope's name", () => {
    // The scope target is named after the scope's cgroup ("/batch"); the detector's one state is the scope's.
    const batch = { kind: 'scope' as const, key: '/batch' };
    expect(evaluate('hot', dets, batch)).toBe(true);
    expect(evaluate({ not: 'hot' }, dets, batch)).toBe(false);
    expect(evaluate({ not: 'cold' }, dets, batch)).toBe(true);
  });

  it('names, positive names and text', () => {
    const c = { all: ['a', { not: 'b' }, { any: ['c', 'a'] }] };
    expect(namesIn(c)).toEqual(['a', 'b', 'c']);
    expect(positiveNames(c)).toEqual(['a', 'c']);
    expect(renderCondition(c)).toBe('a and not b and (c or a)');
  });
});
