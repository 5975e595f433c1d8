/**
 * Property tests: for any sequence of signal windows and any recipe
 * parameters, the engine (HeuristicStrategy + actions + guards) never writes
 * outside the declared bounds, never changes a knob faster than its cooldown,
 * never spends more than the hourly budget, never touches anything outside
 * the scope (nor the root cgroup, nor the scope's own weight), and the
 * revert at exit puts back the exact original values.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { SimHost } from '../../src/host/host.js';
import { knobLabel, type KnobRef } from '../../src/knobs/knob.js';
import { SimIo } from '../../src/knobs/sim-io.js';
import { parseRecipe } from '../../src/recipes/load.js';
import { ScopeGuard } from '../../src/scope/guard.js';
import { HeuristicStrategy } from '../../src/strategy/heuristic.js';

/** SimIo that stamps every write with the current window's time. */
class StampedIo extends SimIo {
  now = 0;
  log: Array<{ ts: number; path: string; value: string }> = [];
  override writeSync(k: KnobRef, v: string): void {
    super.writeSync(k, v);
    this.log.push({ ts: this.now, path: knobLabel(k), value: v });
  }
}

const CGROUPS = ['/p/a', '/p/b', '/p/c/d', '/p', '/', '/q/x', 'id:9', '/p/../q', '/pq'];
const DEVICES = ['loop0', 'vda', '../etc', 'sda1', 'a/b'];

const weightParams = fc.record({
  direction: fc.constantFrom('lower', 'raise'),
  lowerFactor: fc.double({ min: 0.1, max: 0.9, noNaN: true }),
  raiseFactor: fc.double({ min: 1.1, max: 10, noNaN: true }),
  min: fc.integer({ min: 1, max: 5000 }),
  span: fc.integer({ min: 0, max: 5000 }),
  cooldownS: fc.integer({ min: 1, max: 20 }),
  perHour: fc.integer({ min: 1, max: 40 }),
  forN: fc.integer({ min: 1, max: 3 }),
  relax: fc.constantFrom('hold', 'step', 'restore'),
});

/** Mostly extreme values, some anywhere: windows that trigger, hold, hover and clear. */
const share = fc.oneof(fc.constantFrom(0.05, 0.3, 0.45, 0.9), fc.double({ min: 0, max: 1, noNaN: true }));

/** Each cgroup is present in most windows (a missing one counts toward clearing). */
const schedWindows = fc.array(
  fc.record({
    dt: fc.integer({ min: 200, max: 4000 }),
    cgroups: fc
      .tuple(
        ...CGROUPS.map((n) =>
          fc.option(
            fc.record({
              cgroup: fc.constant(n),
              wait_share: share,
              oncpu_ns: fc.oneof(fc.constantFrom(0, 1e6, 2e9), fc.integer({ min: 0, max: 2e9 })),
            }),
            { freq: 6 },
          ),
        ),
      )
      .map((xs) => xs.filter((x) => x !== null)),
  }),
  { minLength: 5, maxLength: 60, size: 'max' },
);

const initialWeights = fc.record(
  Object.fromEntries(CGROUPS.map((c) => [c, fc.integer({ min: 1, max: 10000 })])) as Record<string, fc.Arbitrary<number>>,
);

function weightRecipe(p: fc.RecordValue<typeof weightParams.constraints> | any): string {
  const factor = p.direction === 'lower' ? p.lowerFactor : p.raiseFactor;
  return `name: prop
description: property test
interval: 1s
detectors:
  starved: { signal: sched.cgroups.wait_share, above: 0.4, clear: 0.2, for: ${p.forN} }
  dominant: { signal: sched.cgroups.cpu_share, above: 0.5, clear: 0.3, for: ${p.forN} }
when: { any: [starved, dominant] }
actions:
  - action: cpu_weight
    target: ${p.direction === 'lower' ? 'dominant' : 'starved'}
    direction: ${p.direction}
    factor: ${factor}
    relax: ${p.relax}
    bounds: { min: ${p.min}, max: ${p.min + p.span} }
guards: { cooldown: ${p.cooldownS}s, max_changes_per_hour: ${p.perHour} }
`;
}

async function drive(
  recipeText: string,
  scope: string,
  windows: Array<{ dt: number; records: Record<string, unknown> }>,
  assume: Map<string, string>,
) {
  const l = parseRecipe(recipeText, 'prop.yaml', { asRoot: false });
  if (!l.recipe) throw new Error(l.problems.map((x) => JSON.stringify(x)).join('\n'));
  const host = SimHost.withCpus(2);
  const io = new StampedIo([0, 1], assume);
  const guard = new ScopeGuard({ cgroup: scope }, host);
  const engine = new Engine({
    recipe: l.recipe,
    strategy: new HeuristicStrategy(l.recipe, guard),
    host,
    io,
    scope: guard,
    mode: 'replay',
    claims: new Map(),
  });
  let ts = Date.parse('2026-01-01T00:00:00Z');
  for (const w of windows) {
    ts += w.dt;
    io.now = ts;
    await engine.tick({ ts, records: w.records });
  }
  const beforeRevert = io.log.length;
  io.now = ts + 1;
  await engine.revertAll(ts + 1);
  return { recipe: l.recipe, io, steps: io.log.slice(0, beforeRevert), reverts: io.log.slice(beforeRevert) };
}

describe('engine properties', () => {
  it('cpu_weight: bounds, cooldown, hourly budget, scope, exact revert', async () => {
    let active = 0;
    let multi = 0;
    let relaxed = 0;
    await fc.assert(
      fc.asyncProperty(weightParams, schedWindows, initialWeights, async (p, ws, init) => {
        const assume = new Map(
          CGROUPS.filter((c) => c.startsWith('/') && !c.includes('..')).map((c) => [
            `/sys/fs/cgroup${c === '/' ? '' : c}/cpu.weight`,
            String(init[c]),
          ]),
        );
        const windows = ws.map((w) => ({
          dt: w.dt,
          records: { sched: { signal: 'sched', interval_ms: 1000, cpus: [{ cpu: 0 }, { cpu: 1 }], cgroups: w.cgroups } },
        }));
        const { recipe, io, steps, reverts } = await drive(weightRecipe(p), '/p', windows, assume);
        if (steps.length > 0) active++;
        if (steps.length > 2) multi++;
        const min = p.min;
        const max = p.min + p.span;
        const original = (path: string) => assume.get(path)!;
        const byKnob = new Map<string, Array<{ ts: number; value: string }>>();
        for (const s of steps) {
          // Scope: strictly below /p, never the root, never /p itself, never outside.
          expect(s.path).toMatch(/^\/sys\/fs\/cgroup\/p\/[^.][^]*\/cpu\.weight$/);
          expect(s.path).not.toContain('..');
          const v = Number(s.value);
          const orig = Number(original(s.path));
          // Within bounds, or moving back toward / onto the original (relax).
          const prev = byKnob.get(s.path)?.at(-1)?.value ?? original(s.path);
          const towardOriginal = Math.min(Number(prev), orig) <= v && v <= Math.max(Number(prev), orig);
          expect(v >= min && v <= max ? true : towardOriginal, `${s.path}: ${prev} -> ${v}, bounds ${min}..${max}, original ${orig}`).toBe(
            true,
          );
          if (byKnob.has(s.path) && Math.abs(v - orig) < Math.abs(Number(prev) - orig)) relaxed++;
          const list = byKnob.get(s.path) ?? [];
          // Cooldown between two changes of one knob.
          if (list.length > 0) expect(s.ts - list.at(-1)!.ts).toBeGreaterThanOrEqual(recipe.guards.cooldownMs);
          list.push({ ts: s.ts, value: s.value });
          byKnob.set(s.path, list);
        }
        // Hourly budget (the whole run is shorter than an hour).
        expect(steps.length).toBeLessThanOrEqual(recipe.guards.maxChangesPerHour);
        // Revert: every knob back to its exact original text.
        for (const path of byKnob.keys()) expect(io.readSync({ kind: 'file', path })).toBe(original(path));
        for (const r of reverts) expect(r.value).toBe(original(r.path));
      }),
      { numRuns: 200 },
    );
    // Not vacuous: many runs changed knobs several times, some relaxed back.
    expect(active).toBeGreaterThan(40);
    expect(multi).toBeGreaterThan(10);
    expect(relaxed).toBeGreaterThan(0);
  });

  it('io_prefetch: only whole-disk names, at most max_kb, restored exactly', async () => {
    const params = fc.record({
      maxKb: fc.integer({ min: 1, max: 2048 }).map((x) => x * 4),
      factor: fc.double({ min: 1.1, max: 16, noNaN: true }),
      cooldownS: fc.integer({ min: 1, max: 10 }),
    });
    const devWindows = fc.array(
      fc.record({
        dt: fc.integer({ min: 500, max: 3000 }),
        devices: fc
          .tuple(
            ...DEVICES.map((n) =>
              fc.option(
                fc.record({
                  dev: fc.constant(n),
                  read_seq_pct: fc.oneof(fc.constantFrom(10, 60, 95), fc.double({ min: 0, max: 100, noNaN: true })),
                  read_lat: fc.record({ p99_us: fc.oneof(fc.constantFrom(100, 1000, 5000), fc.integer({ min: 0, max: 10000 })) }),
                }),
                { freq: 6 },
              ),
            ),
          )
          .map((xs) => xs.filter((x) => x !== null)),
      }),
      { minLength: 5, maxLength: 50, size: 'max' },
    );
    let active = 0;
    await fc.assert(
      fc.asyncProperty(params, devWindows, fc.integer({ min: 0, max: 4096 }), async (p, ws, start) => {
        const text = `name: ra
description: property test
detectors:
  sequential: { signal: io.devices.read_seq_pct, above: 80, clear: 50, for: 1 }
  slow: { signal: io.devices.read_lat.p99_us, above: 2000, clear: 500, for: 1 }
actions:
  - action: io_prefetch
    target: { detector: sequential, also: [slow] }
    factor: ${p.factor}
    bounds: { max_kb: ${p.maxKb} }
    relax_when: { not: sequential }
guards: { cooldown: ${p.cooldownS}s, max_changes_per_hour: 100 }
`;
        const initial = String(Math.floor(start / 4) * 4);
        const assume = new Map(['loop0', 'vda', 'sda1'].map((d) => [`/sys/block/${d}/queue/read_ahead_kb`, initial]));
        const windows = ws.map((w) => ({ dt: w.dt, records: { io: { signal: 'io', devices: w.devices } } }));
        const { io, steps } = await drive(text, '/', windows, assume);
        if (steps.length > 0) active++;
        for (const s of steps) {
          expect(s.path).toMatch(/^\/sys\/block\/(loop0|vda|sda1)\/queue\/read_ahead_kb$/);
          const v = Number(s.value);
          expect(v <= p.maxKb || s.value === initial).toBe(true);
        }
        for (const path of new Set(steps.map((s) => s.path))) expect(io.readSync({ kind: 'file', path })).toBe(initial);
      }),
      { numRuns: 200 },
    );
    expect(active).toBeGreaterThan(40);
  });
});
