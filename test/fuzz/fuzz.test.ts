/**
 * Hostile and broken input, generated with fast-check: recipe files
 * (arbitrary bytes, arbitrary YAML, mutated shipped recipes), replay feeds,
 * profiles given to `compare`, journals given to `revert`. The library entry
 * points run in-process (thousands of cases; a CLI start costs ~0.3 s), and a
 * smaller set goes through the real CLI. Every case must end in a result or
 * an input error with a message (exit 2, or revert's documented 2), never
 * an internal error or a stack trace, and never a change.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRecipe } from '../../src/recipes/load.js';
import { replay } from '../../src/commands/replay.js';
import { compare } from '../../src/commands/compare.js';
import { restoreStale } from '../../src/journal/restore.js';
import { knobRefusal } from '../../src/knobs/allowed.js';
import { knobId, type KnobIo, type KnobRef } from '../../src/knobs/knob.js';
import { InternalError, TunerError } from '../../src/errors.js';
import { tuner } from '../helpers/cli.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const RECIPES = readdirSync(path.join(ROOT, 'recipes'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => path.join(ROOT, 'recipes', f));
const shipped = RECIPES.map((f) => readFileSync(f, 'utf8'));
const FEEDS = readdirSync(path.join(ROOT, 'test/fixtures/replay')).map((f) =>
  readFileSync(path.join(ROOT, 'test/fixtures/replay', f), 'utf8'),
);
const PROFILE = readFileSync(path.join(ROOT, 'test/fixtures/profiles/mutex-base.json'), 'utf8');

const work = mkdtempSync(path.join(tmpdir(), 'tuner-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const file = (text: string | Uint8Array, ext: string): string => {
  const f = path.join(work, `${n++}.${ext}`);
  writeFileSync(f, text, { mode: 0o600 });
  return f;
};

/** Counted per target and printed at the end: the cases each fuzz ran. */
const counts: Record<string, number> = {};
const count = (k: string): void => {
  counts[k] = (counts[k] ?? 0) + 1;
};
afterAll(() => console.log(`fuzz cases: ${JSON.stringify(counts)}`));

/** An error a user may see: a TunerError that is not an internal error. */
function expectInputError(err: unknown): void {
  if (!(err instanceof TunerError) || err instanceof InternalError) throw err;
  expect(err.message.length).toBeGreaterThan(0);
}

/** A shipped recipe with some of its text replaced, duplicated, cut or flipped. */
const mutated = fc
  .tuple(
    fc.integer({ min: 0, max: shipped.length - 1 }),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.nat({ max: 40 }),
        fc.oneof(
          fc.string({ maxLength: 12 }),
          fc.constantFrom('-', ':', '{', '[', '"', '\n', '  ', '0', '-1', '1e400', 'null', '~', '&a', '*a', '!!binary', '\t', '\u0000'),
        ),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([i, edits]) => {
    let t = shipped[i]!;
    for (const [at, len, ins] of edits) {
      const p = at % (t.length + 1);
      t = t.slice(0, p) + ins + t.slice(p + len);
    }
    return t;
  });

/** A shipped recipe with one value replaced by anything JSON can hold. */
const revalued = fc.tuple(fc.integer({ min: 0, max: shipped.length - 1 }), fc.nat(), fc.jsonValue({ maxDepth: 2 })).map(([i, at, v]) => {
  const lines = shipped[i]!.split('\n');
  const cand = lines.map((l, k) => [l, k] as const).filter(([l]) => /^\s*[\w-]+:\s*\S/.test(l) && !l.trim().startsWith('#'));
  const [line, k] = cand[at % cand.length]!;
  const key = line.slice(0, line.indexOf(':') + 1);
  lines[k] = `${key} ${JSON.stringify(v)}`;
  return lines.join('\n');
});

const RUNS = { numRuns: 300 };

describe('fuzz: recipe files', () => {
  it('arbitrary bytes, arbitrary YAML, mutated shipped recipes: a recipe or errors with a message, never a throw', () => {
    const check = (text: string, what: string) => {
      count(`recipe ${what}`);
      const r = parseRecipe(text, 'fuzz.yaml', { asRoot: false });
      if (r.recipe) return;
      expect(r.problems.some((p) => p.severity === 'error')).toBe(true);
      for (const p of r.problems) expect(`${p.expected} ${p.found}`.length).toBeGreaterThan(1);
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => check(Buffer.from(b).toString('utf8'), 'bytes')),
      RUNS,
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (s) => check(s, 'string')),
      RUNS,
    );
    fc.assert(
      fc.property(fc.anything({ maxDepth: 3 }), (v) => check(stringify(v, { aliasDuplicateObjects: false }) ?? '', 'yaml')),
      RUNS,
    );
    fc.assert(
      fc.property(mutated, (t) => check(t, 'mutated')),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(revalued, (t) => check(t, 'revalued')),
      { numRuns: 500 },
    );
  });
});

/** A feed line: a shipped feed's record with values replaced, or anything. */
const feedLine = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc
    .tuple(
      fc.integer({ min: 0, max: FEEDS.length - 1 }),
      fc.nat(),
      fc.array(fc.tuple(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })), { maxLength: 3 }),
    )
    .map(([f, at, edits]) => {
      const lines = FEEDS[f]!.trim().split('\n');
      const rec = JSON.parse(lines[at % lines.length]!) as Record<string, unknown>;
      const keys = Object.keys(rec);
      for (const [k, v] of edits) rec[keys.length > 0 && k.length % 2 === 0 ? keys[k.length % keys.length]! : k] = v;
      return JSON.stringify(rec);
    }),
  fc.string({ maxLength: 60 }),
);

describe('fuzz: replay feeds', () => {
  it('arbitrary and mutated feed lines: events or an input error, never a throw of another kind', async () => {
    const recipes = RECIPES.filter((f) => !f.includes('numa'));
    await fc.assert(
      fc.asyncProperty(
        fc.array(feedLine, { maxLength: 12 }),
        fc.integer({ min: 0, max: FEEDS.length - 1 }),
        fc.boolean(),
        async (lines, base, prefix) => {
          count('replay feed');
          const text = (prefix ? FEEDS[base]!.trim().split('\n').slice(0, 6).concat(lines) : lines).join('\n');
          try {
            for await (const e of replay({ feed: file(text, 'ndjson'), recipes, cgroup: 'p' })) expect(typeof e.type).toBe('string');
          } catch (err) {
            expectInputError(err);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('fuzz: profiles given to compare', () => {
  it('arbitrary JSON and mutated profiles: a result or an input error (exit 2), never a throw of another kind', async () => {
    const base = file(PROFILE, 'json');
    const mutate = fc.tuple(fc.nat(), fc.nat({ max: 20 }), fc.string({ maxLength: 8 })).map(([at, len, ins]) => {
      const p = at % (PROFILE.length + 1);
      return PROFILE.slice(0, p) + ins + PROFILE.slice(p + len);
    });
    const revalue = fc
      .tuple(fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }))
      .map(([keys, v]) => {
        const p = JSON.parse(PROFILE) as Record<string, unknown>;
        let o: any = p;
        for (const k of keys.slice(0, -1)) {
          const ks = o && typeof o === 'object' ? Object.keys(o) : [];
          if (ks.length === 0) break;
          o = o[ks[k.length % ks.length]!];
        }
        if (o && typeof o === 'object') {
          const ks = Object.keys(o);
          o[ks.length > 0 ? ks[keys.at(-1)!.length % ks.length]! : 'x'] = v;
        }
        return JSON.stringify(p);
      });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
          mutate,
          revalue,
        ),
        async (text) => {
          count('compare profile');
          try {
            await compare({ base, new: file(text, 'json'), threshold: 0.1, alpha: 0.05, resamples: 200 });
          } catch (err) {
            expectInputError(err);
            expect((err as TunerError).exitCode).toBe(2);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** Counts writes; every knob reads as the value tuner wrote, so a restore would write (the worst case). */
class Recorder implements KnobIo {
  writes: KnobRef[] = [];
  readSync(): string {
    return '2';
  }
  writeSync(k: KnobRef): void {
    this.writes.push(k);
  }
  async read() {
    return '2';
  }
  async write(k: KnobRef) {
    this.writeSync(k);
  }
}

const knobArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    kind: fc.constant('file'),
    path: fc.oneof(
      fc.string(),
      fc.constantFrom(
        '/etc/passwd',
        '/tmp/x',
        '/sys/fs/cgroup/../../etc/shadow',
        '/sys/fs/cgroup/x/cgroup.kill',
        '/sys/block/sda/queue/read_ahead_kb',
        '/sys/fs/cgroup/unified/x/cpu.weight',
      ),
    ),
  }),
  fc.record({
    kind: fc.constant('hook'),
    id: fc.string(),
    argv: fc.array(fc.oneof(fc.string(), fc.constant('/usr/bin/touch'))),
    timeoutMs: fc.integer(),
  }),
  fc.record({ kind: fc.constantFrom('affinity', 'pages'), pid: fc.integer(), tid: fc.integer(), start: fc.integer() }),
  fc.anything({ maxDepth: 2 }),
);
const journalArb = fc.oneof(
  fc.record(
    {
      version: fc.oneof(fc.constant(1), fc.anything({ maxDepth: 1 })),
      owner: fc.oneof(
        fc.constant({ pid: 999_999_999, start: 1 }),
        fc.record({ pid: fc.integer({ min: 1, max: 4194304 }), start: fc.nat() }),
        fc.anything({ maxDepth: 1 }),
      ),
      created: fc.string(),
      entries: fc.array(
        knobArb.chain((knob) =>
          fc.record({
            id: fc.oneof(fc.constant(knob && typeof knob === 'object' && 'kind' in knob ? safeId(knob) : 'x'), fc.string()),
            knob: fc.constant(knob),
            original: fc.oneof(fc.string(), fc.anything({ maxDepth: 1 })),
            written: fc.array(fc.string(), { maxLength: 3 }),
            recipe: fc.string(),
            action: fc.string(),
            target: fc.string(),
            since: fc.string(),
          }),
        ),
        { maxLength: 4 },
      ),
    },
    { requiredKeys: [] },
  ),
  fc.anything({ maxDepth: 3 }),
);
function safeId(k: object): string {
  try {
    return knobId(k as KnobRef);
  } catch {
    return 'x';
  }
}

describe('fuzz: journals given to revert', () => {
  it('arbitrary journals: refused or restored only at places tuner changes, hooks never run, never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          journalArb.map((j) => JSON.stringify(j) ?? 'null'),
          fc.string({ maxLength: 200 }),
        ),
        async (text) => {
          count('revert journal');
          const d = mkdtempSync(path.join(work, 'j-'));
          writeFileSync(path.join(d, '1-1.json'), text, { mode: 0o600 });
          const io = new Recorder();
          const { restored } = await restoreStale(io, d);
          for (const k of io.writes) {
            expect(k.kind).not.toBe('hook');
            expect(knobRefusal(k)).toBeUndefined();
          }
          for (const j of restored) if (!j.removed && j.outcomes.length === 0) expect(j.error).toBeTruthy();
          rmSync(d, { recursive: true, force: true });
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('fuzz: through the real CLI', () => {
  it('validate, replay, compare and revert on generated input: exit 0 or 2 with a message on stderr, never a stack trace', async () => {
    const samples = fc.sample(fc.oneof(mutated, revalued), { numRuns: 6, seed: 42 });
    const feeds = fc.sample(fc.array(feedLine, { maxLength: 6 }), { numRuns: 4, seed: 7 });
    const profiles = fc.sample(fc.jsonValue({ maxDepth: 2 }), { numRuns: 3, seed: 3 });
    const journals = fc.sample(journalArb, { numRuns: 4, seed: 5 });
    const runs: Array<{ args: string[]; env?: Record<string, string>; codes: number[] }> = [
      ...samples.map((t) => ({ args: ['validate', file(t, 'yaml')], codes: [0, 2] })),
      ...feeds.map((l) => ({ args: ['replay', file(l.join('\n'), 'ndjson'), RECIPES[0]!, '--cgroup', 'p'], codes: [0, 2] })),
      ...profiles.map((p) => ({ args: ['compare', file(PROFILE, 'json'), file(JSON.stringify(p), 'json')], codes: [2] })),
      ...journals.map((j) => {
        const d = mkdtempSync(path.join(work, 'cj-'));
        writeFileSync(path.join(d, '1-1.json'), JSON.stringify(j) ?? 'null', { mode: 0o600 });
        return { args: ['revert'], env: { TUNER_JOURNAL_DIR: d }, codes: [0, 2] };
      }),
    ];
    for (const r of runs) {
      count(`cli ${r.args[0]}`);
      const p = await tuner(r.args, { env: r.env ?? {} });
      const why = `tuner ${r.args.join(' ')}: exit ${p.exitCode}\n${String(p.stderr)}`;
      expect(r.codes, why).toContain(p.exitCode);
      expect(String(p.stderr), why).not.toMatch(/internal error|\n\s+at .*:\d+:\d+/);
      if (p.exitCode === 2 && r.args[0] !== 'revert') expect(String(p.stderr).trim().length, why).toBeGreaterThan(0);
    }
  });
});
