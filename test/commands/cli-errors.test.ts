/**
 * Bad recipes and bad flags through the built CLI: exit code 2, a message
 * naming file, line, dotted path, expected and found, no stack trace, and
 * nothing applied (no journal is even created).
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tuner } from '../helpers/cli.js';
import { BAD, GOOD } from '../recipes/bad-recipes.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tuner-cli-'));
const journal = path.join(dir, 'journal');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { TUNER_JOURNAL_DIR: journal };

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  chmodSync(f, 0o600);
  return f;
}

function noStack(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toContain('internal error');
}

describe('bad recipes through the CLI', () => {
  it.each(BAD.filter((c) => c.path !== '' || c.line !== undefined))(
    '$name: validate and run --apply exit 2 naming file, line and path',
    async (c) => {
      const f = file(`${c.name.replace(/\W+/g, '-')}.yaml`, c.text);
      for (const args of [
        ['validate', f],
        ['run', f, '--apply', '--cgroup', '/sys/fs/cgroup', '--duration', '1s'],
      ]) {
        const r = await tuner(args, { env });
        expect(r.exitCode, String(r.stderr)).toBe(2);
        noStack(String(r.stderr));
        const where = `recipe "${f}"${c.line !== undefined ? `, line ${c.line}` : ''}: ${c.path ? `${c.path}: ` : ''}expected `;
        expect(String(r.stderr)).toContain(where);
        expect(String(r.stderr)).toContain(c.expected);
        expect(String(r.stdout)).toBe('');
      }
      expect(existsSync(journal)).toBe(false);
    },
  );

  it('validate prints what a good recipe does, and its warnings', async () => {
    const f = file('good.yaml', GOOD.replace('    clear: 0.2\n', ''));
    const r = await tuner(['validate', f], { env });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toContain(`ok ${f} (good): when starved and dominant -> cpu_weight`);
    expect(String(r.stdout)).toContain(`line 6: warning: detectors.starved.clear: expected a clear threshold below 0.4 for hysteresis`);
  });

  it('validates every shipped recipe', async () => {
    const recipes = ['noisy-neighbor', 'spread-hot-threads', 'psi-backoff', 'readahead-sequential', 'numa-locality'].map(
      (n) => new URL(`../../recipes/${n}.yaml`, import.meta.url).pathname,
    );
    const r = await tuner(['validate', '--json', ...recipes], { env });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(JSON.parse(String(r.stdout)).recipes.map((x: { name: string }) => x.name)).toEqual([
      'noisy-neighbor',
      'spread-hot-threads',
      'psi-backoff',
      'readahead-sequential',
      'numa-locality',
    ]);
  });
});

describe('bad flags through the CLI', () => {
  const good = () => file('ok.yaml', GOOD);
  it.each([
    ['a duration without a unit', ['--duration', '5'], '--duration: expected a duration like 1s, 500ms or 2m, got "5"'],
    ['an interval too short', ['--interval', '10ms', '--duration', '1s'], '--interval: expected at least 100ms, got 10ms'],
    ['--watch with --duration', ['--watch', '--duration', '1s'], '--watch and --duration cannot be combined'],
    ['--pid with --cgroup', ['--pid', String(process.pid), '--cgroup', 'x', '--duration', '1s'], '--pid and --cgroup cannot be combined'],
    [
      'a PID that is not a number',
      ['--pid', 'abc', '--duration', '1s'],
      '--pid: expected a process ID (a whole number from 1 to 4194304), got "abc"',
    ],
    ['a PID that does not exist', ['--pid', '4194303', '--duration', '1s'], '--pid 4194303: no such process'],
    ['a cgroup that climbs out', ['--cgroup', '../../etc', '--duration', '1s'], 'escapes the cgroup root'],
    ['a cgroup that does not exist', ['--cgroup', 'tuner-no-such-cgroup', '--duration', '1s'], 'no such cgroup'],
    [
      '--apply without a scope',
      ['--apply', '--duration', '1s'],
      '--apply: these recipes change cgroups or processes, so they need a scope',
    ],
    ['an unknown backend', ['--backend', 'ebpf', '--duration', '1s'], '--backend: expected one of auto, bpf, bpftrace, got "ebpf"'],
    ['an unknown option', ['--aply'], "unknown option '--aply'"],
  ])('%s', async (_name, flags, message) => {
    const r = await tuner(['run', good(), ...flags], { env });
    expect(r.exitCode, String(r.stderr)).toBe(2);
    expect(String(r.stderr)).toContain(message);
    noStack(String(r.stderr));
    expect(existsSync(journal)).toBe(false);
  });

  it.each([
    ['--assume without a value', ['--assume', '/sys/fs/cgroup/x/cpu.weight'], '--assume: expected KNOB=VALUE'],
    ['a PID that is not a number', ['--pid', '1x'], '--pid: expected a process ID'],
    ['a cgroup that climbs out', ['--cgroup', '/p/../../x'], 'expected a cgroup name without ".."'],
  ])('replay: %s', async (_name, flags, message) => {
    const feed = new URL('../fixtures/replay/noisy-neighbor.ndjson', import.meta.url).pathname;
    const r = await tuner(['replay', feed, good(), ...flags], { env });
    expect(r.exitCode, String(r.stderr)).toBe(2);
    expect(String(r.stderr)).toContain(message);
    noStack(String(r.stderr));
  });

  it('replay: a feed that is missing or not NDJSON records', async () => {
    const missing = await tuner(['replay', path.join(dir, 'nope.ndjson'), good()], { env });
    expect(missing.exitCode).toBe(2);
    expect(String(missing.stderr)).toContain('cannot read the feed (ENOENT)');
    const junk = await tuner(['replay', file('junk.ndjson', 'hello\n{"x":1}\n'), good()], { env });
    expect(junk.exitCode).toBe(2);
    expect(String(junk.stderr)).toContain(
      'expected NDJSON records from `tuner watch ... --json`, got no usable record in 2 lines (line 1: not JSON)',
    );
  });

  it('replay --json prints audit records with the documented fields', async () => {
    const feed = new URL('../fixtures/replay/noisy-neighbor.ndjson', import.meta.url).pathname;
    const recipe = new URL('../../recipes/noisy-neighbor.yaml', import.meta.url).pathname;
    const r = await tuner(
      ['replay', feed, recipe, '--cgroup', '/tuner-test-rec', '--assume', '/sys/fs/cgroup/tuner-test-rec/hog/cpu.weight=10000', '--json'],
      { env },
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const lines = String(r.stdout)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const d = lines.find((l) => l.type === 'decision');
    for (const k of ['ts', 'recipe', 'detector', 'evidence', 'action', 'target', 'knob', 'old', 'new', 'applied', 'reverted'])
      expect(d).toHaveProperty(k);
    expect(d).toMatchObject({
      recipe: 'noisy-neighbor',
      action: 'cpu_weight',
      target: '/tuner-test-rec/hog',
      old: '10000',
      new: '2500',
      applied: false,
      reverted: false,
    });
    expect(lines.at(-1).type).toBe('summary');
  });
});
