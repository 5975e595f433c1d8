/** `record --alternate`: the command line split at `::`, and the input refused before anything runs. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { command, splitAlternate } from '../../src/commands/record.js';
import { record, recordAlternate, type AlternateRecording, type RecordRunEvent } from '../../src/record/recording.js';
import { toJson } from '../../src/output/json.js';
import { readProfile } from '../../src/record/profile.js';
import { UsageError } from '../../src/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tuner-record-alt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('splitAlternate', () => {
  it('without --alternate the command is whole, :: included', () => {
    expect(splitAlternate(['./bench', '::', 'x'], undefined)).toEqual({ command: ['./bench', '::', 'x'] });
  });
  it('splits at the lone ::', () => {
    expect(splitAlternate(['../base/bench', '-n', '5', '::', './bench', '-n', '5'], 'new.json')).toEqual({
      command: ['../base/bench', '-n', '5'],
      other: ['./bench', '-n', '5'],
    });
  });
  it.each([
    [['./bench'], /expected two commands separated by a lone ::/],
    [['::', './bench'], /expected a command on each side of ::/],
    [['./bench', '::'], /expected a command on each side of ::/],
    [['./a', '::', './b', '::', './c'], /expected one ::, found more/],
  ])('%j: a usage error naming --alternate', (argv, message) => {
    expect(() => splitAlternate(argv, 'new.json')).toThrow(UsageError);
    expect(() => splitAlternate(argv, 'new.json')).toThrow(message);
  });
});

describe('record --alternate refuses bad input before running anything', () => {
  const base = { repeat: 1, warmup: 0, output: path.join(dir, 'a.json') };
  it('the same file for both profiles', async () => {
    await expect(
      record({ ...base, command: ['true'], alternate: { command: ['true'], output: path.join(dir, '.', 'a.json') } }),
    ).rejects.toThrow(/--alternate .*a.json: the same file as -o/);
  });
  it('a second command that does not exist', async () => {
    await expect(
      record({ ...base, command: ['true'], alternate: { command: ['no-such-command-here'], output: path.join(dir, 'b.json') } }),
    ).rejects.toThrow(/command "no-such-command-here" not found in PATH/);
  });
  it('a second profile in a directory that does not exist', async () => {
    await expect(
      record({ ...base, command: ['true'], alternate: { command: ['true'], output: path.join(dir, 'nope', 'b.json') } }),
    ).rejects.toThrow(/--alternate .*nope.*b.json: the directory .* does not exist/);
  });
});

describe('record --alternate (no signals: the runs, their order and their failures)', () => {
  const file = (name: string): string => path.join(dir, name);
  /** A command that appends its name to a log file, then exits with `code`. */
  const logged = (log: string, name: string, code = 0): string[] => ['/bin/sh', '-c', `echo ${name} >> ${log}; exit ${code}`];
  const lines = (log: string): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

  it('pairs in ABBA order; each start says its side and pair; both profiles name their partner and one recording', async () => {
    const log = file('abba.log');
    const starts: RecordRunEvent[] = [];
    const r = await recordAlternate({
      command: logged(log, 'A'),
      output: file('abba-a.json'),
      alternate: { command: logged(log, 'B'), output: file('abba-b.json') },
      signals: [],
      repeat: 2,
      warmup: 1,
      workloadOutput: 'ignore',
      onStart: (e) => starts.push(e),
    });
    expect(lines(log)).toEqual(['A', 'B', 'A', 'B', 'B', 'A']);
    expect(starts.map((e) => [e.warmup, e.index, e.of, e.side?.name, e.side?.pair, e.side?.pairs])).toEqual([
      [true, 1, 2, 'BASE', 1, 1],
      [true, 2, 2, 'NEW', 1, 1],
      [false, 1, 4, 'BASE', 1, 2],
      [false, 2, 4, 'NEW', 1, 2],
      [false, 3, 4, 'NEW', 2, 2],
      [false, 4, 4, 'BASE', 2, 2],
    ]);
    expect(r.base.file).toBe(file('abba-a.json'));
    expect(r.new.file).toBe(file('abba-b.json'));
    const a = readProfile(r.base.file);
    const b = readProfile(r.new.file);
    expect(a).toEqual(r.base.profile);
    expect(a.alternated).toMatchObject({ side: 'base', partner: file('abba-b.json'), partner_command: logged(log, 'B'), order: 'ABBA' });
    expect(b.alternated).toMatchObject({ side: 'new', partner: file('abba-a.json'), partner_command: logged(log, 'A') });
    expect(a.alternated!.id).toBe(b.alternated!.id);
    expect([a.ok, b.ok, a.runs.length, b.runs.length]).toEqual([true, true, 2, 2]);
  });

  it.each([
    // [what, BASE exit codes by call, NEW exit codes by call, warm-ups, runs of A and B made, failed side's message]
    ['BASE fails in the first pair: NEW does not run', 3, 0, 0, ['A'], /^record: BASE run 1 of `.*` exited with code 3;/],
    ['NEW fails in the first pair: the second pair does not start', 0, 4, 0, ['A', 'B'], /^record: NEW run 1 of `.*` exited with code 4;/],
    ['BASE fails its warm-up: nothing else runs', 5, 0, 1, ['A'], /^record: BASE warm-up run 1 of `.*` exited with code 5;/],
  ])('%s; exit 1 naming the side, run and exit code, then the side stopped', async (_what, codeA, codeB, warmup, ran, message) => {
    const log = file(`fail-${codeA}-${codeB}-${warmup}.log`);
    const o = {
      command: logged(log, 'A', codeA),
      output: file(`fail-${codeA}-${codeB}-${warmup}-a.json`),
      alternate: { command: logged(log, 'B', codeB), output: file(`fail-${codeA}-${codeB}-${warmup}-b.json`) },
      signals: [],
      repeat: 3,
      warmup,
      workloadOutput: 'ignore' as const,
      progress: { clear() {} },
    };
    const r = await recordAlternate(o);
    expect(lines(log)).toEqual(ran);
    expect([r.base.profile.ok, r.new.profile.ok]).toEqual([false, false]);
    expect(readProfile(o.output).ok).toBe(false);
    expect(readProfile(o.alternate.output).ok).toBe(false);
    const after = command.after!(r, o);
    expect(after.exitCode).toBe(1);
    const said = after.stderr!.filter((s) => s.startsWith('tuner: record:')).map((s) => s.slice('tuner: '.length));
    expect(said).toHaveLength(2);
    expect(said[0]).toMatch(message);
    expect(said[1]).toMatch(/was stopped after \d of 3 runs because (BASE|NEW) failed; the profile .* is marked "ok": false/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--keep-going: a failing side does not stop the other', async () => {
    const log = file('keep.log');
    const r = await recordAlternate({
      command: logged(log, 'A', 3),
      output: file('keep-a.json'),
      alternate: { command: logged(log, 'B'), output: file('keep-b.json') },
      signals: [],
      repeat: 2,
      warmup: 0,
      keepGoing: true,
      workloadOutput: 'ignore',
    });
    expect(lines(log)).toEqual(['A', 'B', 'B', 'A']);
    expect([r.base.profile.ok, r.new.profile.ok]).toEqual([false, true]);
  });

  it('the result printed: --json both profiles with their files, the view names both files and sides', async () => {
    const o = {
      command: ['true'],
      output: file('out-a.json'),
      alternate: { command: ['true'], output: file('out-b.json') },
      signals: [],
      repeat: 1,
      warmup: 0,
      workloadOutput: 'ignore' as const,
      progress: { clear() {} },
    };
    const r = (await command.run(o)) as AlternateRecording;
    const json = JSON.parse(toJson(r, 2)) as AlternateRecording;
    expect(json.alternated).toBe(true);
    expect(json.base).toEqual({ file: o.output, profile: readProfile(o.output) });
    expect(json.new).toEqual({ file: o.alternate.output, profile: readProfile(o.alternate.output) });
    const text = (await command.output.view(o))(r)!;
    expect(text).toContain(`-> ${o.output} (BASE, in alternation with ${o.alternate.output})`);
    expect(text).toContain(`-> ${o.alternate.output} (NEW, in alternation with ${o.output})`);
    expect(command.after!(r, o)).toEqual({
      stderr: [`tuner: wrote ${o.output} (BASE, 1 run) and ${o.alternate.output} (NEW, 1 run), recorded in alternation`],
    });
  });
});
