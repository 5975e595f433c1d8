/** `record --alternate`: the command line split at `::`, and the input refused before anything runs. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { record, splitAlternate } from '../../src/commands/record.js';
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
