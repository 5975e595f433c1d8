import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ActionDef } from '../../src/actions/action.js';
import { Engine } from '../../src/engine/engine.js';
import type { Mode, RunEvent } from '../../src/engine/events.js';
import { SimHost } from '../../src/host/host.js';
import { Journal } from '../../src/journal/journal.js';
import type { KnobRef } from '../../src/knobs/knob.js';
import { fileWriteError } from '../../src/knobs/refused.js';
import { OverlayIo, SimIo } from '../../src/knobs/sim-io.js';
import { parseRecipe } from '../../src/recipes/load.js';
import type { Recipe } from '../../src/recipes/recipe.js';
import { ScopeGuard } from '../../src/scope/guard.js';
import { HeuristicStrategy } from '../../src/strategy/heuristic.js';
import type { Strategy } from '../../src/strategy/strategy.js';

const RECIPE = `name: nn
description: test
detectors:
  starved: { signal: sched.cgroups.wait_share, above: 0.4, clear: 0.2, for: 1 }
  dominant: { signal: sched.cgroups.cpu_share, above: 0.6, clear: 0.45, for: 1 }
when: { all: [starved, dominant] }
actions:
  - action: cpu_weight
    target: { detector: dominant, sibling_of: starved }
    direction: lower
    factor: 0.5
    bounds: { min: 10, max: 10000 }
guards: { cooldown: 2s, max_changes_per_hour: 3 }
`;
const HOG = '/sys/fs/cgroup/p/hog/cpu.weight';
const hogKnob: KnobRef = { kind: 'file', path: HOG };

function recipe(text = RECIPE): Recipe {
  const l = parseRecipe(text, 't.yaml', { asRoot: false });
  if (!l.recipe) throw new Error(JSON.stringify(l.problems));
  return l.recipe;
}
const window = (ts: number, hogShare = 0.95) => ({
  ts,
  records: {
    sched: {
      signal: 'sched',
      interval_ms: 1000,
      cpus: [{ cpu: 0 }, { cpu: 1 }],
      cgroups: [
        { cgroup: '/p/hog', wait_share: 0.3, oncpu_ns: hogShare * 2e9 },
        { cgroup: '/p/victim', wait_share: 0.9, oncpu_ns: (1 - hogShare) * 2e9 },
      ],
    },
  },
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function engine(
  o: { mode?: Mode; io?: SimIo | OverlayIo; journal?: Journal; claims?: Map<string, string>; r?: Recipe; scope?: string } = {},
) {
  const host = SimHost.withCpus(2);
  const io = o.io ?? new SimIo([0, 1], new Map([[HOG, '1000']]));
  const r = o.r ?? recipe();
  const scope = new ScopeGuard({ cgroup: o.scope ?? '/p' }, host);
  return {
    io,
    e: new Engine({
      recipe: r,
      strategy: new HeuristicStrategy(r, scope),
      host,
      io,
      scope,
      mode: o.mode ?? 'replay',
      journal: o.journal,
      claims: o.claims ?? new Map(),
    }),
  };
}

async function run(e: Engine, from: number, n: number, step = 1000): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for (let i = 0; i < n; i++) out.push(...(await e.tick(window(from + i * step))));
  return out;
}
const kinds = (evs: RunEvent[]) =>
  evs.map((e) => (e.type === 'decision' ? `${e.kind} ${e.old}->${e.new}` : e.type === 'skip' ? `skip: ${e.reason}` : e.type));

describe('engine', () => {
  it('steps once per cooldown, re-evaluating on fresh windows, within its hourly budget', async () => {
    const { e, io } = engine();
    const evs = await run(e, 0, 9);
    // Steps at 0 s, 2 s and 4 s (cooldown 2 s); the fourth would exceed 3 changes per hour.
    expect(kinds(evs)).toEqual([
      'step 1000->500',
      'step 500->250',
      'step 250->125',
      `skip: ${HOG}: its budget of 3 changes per hour is used up`,
    ]);
    expect(io.readSync(hogKnob)).toBe('125');
    const end = await e.revertAll(10_000);
    expect(kinds(end.events)).toEqual(['revert 125->1000']);
    expect(io.readSync(hogKnob)).toBe('1000');
  });

  it('enforces the per-knob cooldown and the budget whatever the strategy proposes', async () => {
    const r = recipe();
    const host = SimHost.withCpus(2);
    const io = new SimIo([0, 1], new Map([[HOG, '1000']]));
    const scope = new ScopeGuard({ cgroup: '/p' }, host);
    // A strategy that ignores every guard: a step on the hog every window.
    const greedy: Strategy = {
      kind: 'greedy',
      observe: () => [{ kind: 'step', action: 0, target: { kind: 'cgroup', key: '/p/hog' }, rule: 'always', evidence: [] }],
      acted: () => {},
    };
    const e = new Engine({ recipe: r, strategy: greedy, host, io, scope, mode: 'replay', claims: new Map() });
    const evs = await run(e, 0, 8);
    expect(kinds(evs)).toEqual([
      'step 1000->500',
      `skip: ${HOG}: changed 1.0 s ago; cooldown 2 s`,
      'step 500->250',
      `skip: ${HOG}: changed 1.0 s ago; cooldown 2 s`,
      'step 250->125',
      `skip: ${HOG}: changed 1.0 s ago; cooldown 2 s`,
      `skip: ${HOG}: its budget of 3 changes per hour is used up`,
    ]);
  });

  it('yields when someone else changes a knob it set: no more changes, no restore', async () => {
    const { e, io } = engine();
    await run(e, 0, 1);
    expect(io.readSync(hogKnob)).toBe('500');
    io.writeSync(hogKnob, '777'); // an administrator
    const writes = io.writes.length;
    const evs = await run(e, 1000, 6);
    expect(evs[0]).toMatchObject({ type: 'yield', knob: HOG, expected: '500', found: '777' });
    // The detectors still fire, but the knob is no longer tuner's: no write, and no restore at exit.
    expect(evs.filter((x) => x.type === 'skip').map((x) => (x.type === 'skip' ? x.reason : ''))).toEqual([
      expect.stringMatching(/yielded to someone else's change \(.*: 500 -> 777\); tuner leaves it alone/),
    ]);
    const end = await e.revertAll(20_000);
    expect(end.events).toEqual([]);
    expect(io.writes.length).toBe(writes);
    expect(io.readSync(hogKnob)).toBe('777');
  });

  it('does not touch a knob another recipe or a running tuner holds', async () => {
    const claims = new Map([[`file:${HOG}`, 'tuner pid 4242']]);
    const { e, io } = engine({ claims });
    const evs = await run(e, 0, 2);
    expect(evs[0]).toMatchObject({ type: 'refused', reason: `${HOG} is held by tuner pid 4242` });
    expect(io.writes).toEqual([]);
  });

  it('never acts outside the scope', async () => {
    const { e, io } = engine({ scope: '/p/victim' });
    await run(e, 0, 5);
    expect(io.writes).toEqual([]);
    // An action that plans outside the scope is refused by the engine's guard, whatever the action says.
    const rogue: ActionDef = {
      ...(recipe().actions[0]!.def as ActionDef),
      plan: async () => ({
        changes: [
          {
            knob: { kind: 'file', path: '/sys/fs/cgroup/cpu.weight' },
            old: '100',
            new: '50',
            scopeTarget: { kind: 'cgroup', name: '/', path: '/sys/fs/cgroup', mount: '/sys/fs/cgroup' },
            detail: 'rogue',
          },
        ],
      }),
      schema: z.any(),
    };
    const r = recipe();
    r.actions[0] = { ...r.actions[0]!, def: rogue };
    const x = engine({ r });
    const evs = await run(x.e, 0, 1);
    expect(evs).toEqual([
      expect.objectContaining({ type: 'refused', knob: '/sys/fs/cgroup/cpu.weight', reason: 'tuner never changes the root cgroup' }),
    ]);
    expect(x.io.writes).toEqual([]);
  });

  it('audit mode writes nothing: the overlay remembers would-be values, the knob keeps its own', async () => {
    const base = new SimIo([0, 1], new Map([[HOG, '1000']]));
    const { e } = engine({ mode: 'audit', io: new OverlayIo(base) });
    const evs = await run(e, 0, 5);
    expect(kinds(evs).filter((k) => k.startsWith('step'))).toEqual(['step 1000->500', 'step 500->250', 'step 250->125']);
    expect(evs.every((x) => x.type !== 'decision' || !x.applied)).toBe(true);
    expect(base.writes).toEqual([]);
    await e.revertAll(9000);
    expect(base.writes).toEqual([]);
  });

  it('apply mode journals the original durably before it writes', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'tuner-eng-'));
    dirs.push(d);
    const journal = Journal.open(d, { pid: 1, start: 2 });
    const seen: string[] = [];
    class CheckingIo extends SimIo {
      override writeSync(k: KnobRef, v: string): void {
        const onDisk = existsSync(journal.file) ? JSON.parse(readFileSync(journal.file, 'utf8')) : { entries: [] };
        seen.push(
          `${v}: journal has ${JSON.stringify(onDisk.entries.map((x: { original: string; written: string[] }) => [x.original, x.written]))}`,
        );
        super.writeSync(k, v);
      }
    }
    const io = new CheckingIo([0, 1], new Map([[HOG, '1000']]));
    const { e } = engine({ mode: 'apply', io, journal });
    await run(e, 0, 3);
    await e.revertAll(5000);
    expect(seen).toEqual([
      '500: journal has [["1000",["500"]]]',
      '250: journal has [["1000",["500","250"]]]',
      '1000: journal has [["1000",["500","250"]]]',
    ]);
    // Reverted: nothing left in the journal.
    expect(journal.entries()).toEqual([]);
  });

  /** A knob that refuses every write (EROFS: a read-only file); `badReads` reads fail too before it reads again. */
  class RefusingIo extends SimIo {
    writes = 0;
    badReads = 0;
    override writeSync(_k: KnobRef, _v: string): void {
      this.writes++;
      throw Object.assign(new Error(`EROFS: read-only file system, open '${HOG}'`), { code: 'EROFS' });
    }
    override readSync(k: KnobRef): string {
      if (this.writes > 0 && this.badReads > 0) {
        this.badReads--;
        throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
      }
      return super.readSync(k);
    }
  }

  it('a write the knob refuses: an error naming it, nothing held, no journal kept, nothing written at exit', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'tuner-eng-'));
    dirs.push(d);
    const journal = Journal.open(d, { pid: 1, start: 2 });
    const io = new RefusingIo([0, 1], new Map([[HOG, '1000']]));
    const { e } = engine({ mode: 'apply', io, journal });
    const evs = await run(e, 0, 1);
    expect(evs).toEqual([expect.objectContaining({ type: 'error', knob: HOG, message: expect.stringMatching(/EROFS/) })]);
    expect(e.heldIds()).toEqual([]);
    expect(journal.entries()).toEqual([]);
    expect(existsSync(journal.file)).toBe(false);
    const writes = io.writes;
    const end = await e.revertAll(5000);
    expect(end).toEqual({ events: [], reverted: [] });
    expect(io.writes).toBe(writes);
  });

  it.each([
    ['EINVAL', 'invalid argument'],
    ['EPERM', 'operation not permitted'],
  ])('a write the kernel refused (%s) is not tried again in the run: one error, then a skip that says why', async (code, text) => {
    const d = mkdtempSync(path.join(tmpdir(), 'tuner-eng-'));
    dirs.push(d);
    const journal = Journal.open(d, { pid: 1, start: 2 });
    class InvalidIo extends SimIo {
      writes = 0;
      override writeSync(_k: KnobRef, v: string): void {
        this.writes++;
        throw fileWriteError(HOG, v, Object.assign(new Error(`${code}: ${text}, write`), { code }));
      }
    }
    const io = new InvalidIo([0, 1], new Map([[HOG, '1000']]));
    const { e } = engine({ mode: 'apply', io, journal });
    const evs = await run(e, 0, 6);
    expect(io.writes).toBe(1);
    expect(evs.filter((x) => x.type === 'error')).toEqual([
      expect.objectContaining({ knob: HOG, message: `${HOG} refused 500: ${code} (${text})` }),
    ]);
    expect(evs.filter((x) => x.type === 'skip')).toEqual([
      expect.objectContaining({
        reason: expect.stringMatching(new RegExp(`the kernel refused 500 at .* \\(${code}\\); not tried again in this run$`)),
      }),
    ]);
    expect(e.heldIds()).toEqual([]);
    expect(journal.entries()).toEqual([]);
  });

  it('at exit a held knob already at its original is not written again (a refused write left it there)', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'tuner-eng-'));
    dirs.push(d);
    const journal = Journal.open(d, { pid: 1, start: 2 });
    const io = new RefusingIo([0, 1], new Map([[HOG, '1000']]));
    io.badReads = 1; // the read after the refused write fails: the knob may hold either value, so it is held
    const { e } = engine({ mode: 'apply', io, journal });
    await run(e, 0, 1);
    expect(e.heldIds()).toHaveLength(1);
    expect(journal.entries()).toHaveLength(1);
    const writes = io.writes;
    const end = await e.revertAll(5000);
    expect(end.reverted).toEqual([{ knob: HOG, to: '1000', result: 'unchanged' }]);
    expect(end.events.filter((x) => x.type === 'error')).toEqual([]);
    expect(io.writes).toBe(writes);
    expect(journal.entries()).toEqual([]);
    expect(existsSync(journal.file)).toBe(false);
  });

  it('revert_on_exit: false keeps the change and says so', async () => {
    const { e, io } = engine({
      r: recipe(RECIPE.replace('max_changes_per_hour: 3 }', 'max_changes_per_hour: 3, revert_on_exit: false }')),
    });
    await run(e, 0, 1);
    const end = await e.revertAll(2000);
    expect(end.reverted).toEqual([{ knob: HOG, to: '500', result: 'kept' }]);
    expect(io.readSync(hogKnob)).toBe('500');
  });
});
