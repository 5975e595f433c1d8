import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRecipeFile, loadRecipes, parseRecipe } from '../../src/recipes/load.js';
import { dotted, formatProblem, RecipeError } from '../../src/recipes/problems.js';
import { BAD, GOOD } from './bad-recipes.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tuner-recipe-'));
  dirs.push(d);
  return d;
}

describe('recipe loading', () => {
  it('accepts the good recipe and normalizes it', () => {
    const l = parseRecipe(GOOD, 'good.yaml', { asRoot: false });
    expect(l.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(l.recipe).toMatchObject({
      name: 'good',
      intervalMs: 1000,
      durationMs: 60_000,
      guards: { cooldownMs: 2000, maxChangesPerHour: 30, revertOnExit: true },
      signals: ['sched'],
      when: { all: ['starved', 'dominant'] },
    });
    expect(l.recipe!.detectors[0]).toEqual({
      name: 'starved',
      signal: 'sched.cgroups.wait_share',
      op: 'above',
      threshold: 0.4,
      clear: 0.2,
      for: 2,
      clearFor: 1,
    });
    expect(l.recipe!.actions[0]).toMatchObject({
      index: 0,
      name: 'cpu_weight',
      target: { kind: 'detector', detector: 'dominant', siblingOf: 'starved' },
      relax: 'hold',
    });
  });

  it.each(BAD)('$name: line $line, $path', (c) => {
    const l = parseRecipe(c.text, 'bad.yaml', { asRoot: false });
    expect(l.recipe).toBeUndefined();
    const errors = l.problems.filter((p) => p.severity === 'error');
    expect(errors.length).toBeGreaterThan(0);
    const hit = errors.find((p) => (c.path === '' ? p.path.length === 0 : dotted(p.path) === c.path));
    expect(hit, errors.map((p) => formatProblem('bad.yaml', p)).join('\n')).toBeDefined();
    if (c.line !== undefined) expect(hit!.line).toBe(c.line);
    else expect(hit!.line).toBeGreaterThan(0);
    const text = formatProblem('bad.yaml', hit!);
    expect(text).toMatch(/^recipe "bad\.yaml", line \d+: /);
    expect(hit!.expected).toContain(c.expected);
    expect(hit!.found).toContain(c.got);
    expect(text).toContain(`expected ${hit!.expected}, got ${hit!.found}`);
  });

  it('warns (but accepts) a detector without a clear threshold and revert_on_exit: false', () => {
    const l = parseRecipe(
      GOOD.replace('    clear: 0.2\n', '').replace('max_changes_per_hour: 30', 'max_changes_per_hour: 30\n  revert_on_exit: false'),
      'w.yaml',
      { asRoot: false },
    );
    expect(l.recipe).toBeDefined();
    expect(l.problems.map((p) => `${p.severity} ${dotted(p.path)}`)).toEqual([
      'warning detectors.starved.clear',
      'warning guards.revert_on_exit',
    ]);
  });

  it('as root, refuses a recipe file writable by group or others, and says why', () => {
    const d = tmp();
    const f = path.join(d, 'r.yaml');
    writeFileSync(f, GOOD);
    chmodSync(f, 0o664);
    const l = loadRecipeFile(f, { asRoot: true });
    expect(l.recipe).toBeUndefined();
    expect(formatProblem(f, l.problems[0]!)).toMatch(
      /expected a file only root can modify .*got a file it is writable by group \(mode 0664\); fix it with chmod go-w/,
    );
    chmodSync(f, 0o644);
    expect(loadRecipeFile(f, { asRoot: true }).recipe).toBeDefined();
    // Not as root: the same file is fine.
    chmodSync(f, 0o666);
    expect(loadRecipeFile(f, { asRoot: false }).recipe).toBeDefined();
  });

  it('as root, refuses a hook program writable by others', () => {
    const d = tmp();
    const prog = path.join(d, 'hook.sh');
    writeFileSync(prog, '#!/bin/sh\nexit 0\n');
    chmodSync(prog, 0o757);
    const text = GOOD.replace(
      'actions:\n',
      `actions:\n  - action: pressure_backoff\n    bounds: { min_cpus: 0.5 }\n    hook: { command: [${prog}, "{level}"] }\n`,
    );
    const bad = parseRecipe(text, 'h.yaml', { asRoot: true });
    expect(bad.problems.map((p) => formatProblem('h.yaml', p)).join('\n')).toMatch(
      /line 20: actions\[0\]\.hook\.command\[0\]: expected a program only root can modify .* writable by others \(mode 0757\)/,
    );
    chmodSync(prog, 0o755);
    expect(parseRecipe(text, 'h.yaml', { asRoot: true }).recipe).toBeDefined();
  });

  it('collects every error of every file into one RecipeError (exit code 2) and refuses duplicate names', () => {
    const d = tmp();
    const a = path.join(d, 'a.yaml');
    const b = path.join(d, 'b.yaml');
    writeFileSync(a, GOOD.replace('for: 2', 'for: 0'));
    writeFileSync(b, GOOD.replace('above: 0.6', 'above: 6'));
    let err: unknown;
    try {
      loadRecipes([a, b, path.join(d, 'missing.yaml')], { asRoot: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecipeError);
    expect((err as RecipeError).exitCode).toBe(2);
    const lines = (err as Error).message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain('missing.yaml": expected a readable recipe file, got no such file');
    writeFileSync(b, GOOD);
    expect(() => loadRecipes([a.replace('a.yaml', 'b.yaml'), b], { asRoot: false })).toThrow(
      /line 1: name: expected a name no other recipe of this run has/,
    );
  });
});
