import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KernelError } from '../../src/errors.js';
import { makePinDir } from '../../src/loader/paths.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('makePinDir', () => {
  it('makes the directory and its parents', () => {
    const d = mkdtempSync(path.join(tmpdir(), 'pins-'));
    dirs.push(d);
    makePinDir(path.join(d, 'tuner', 'a-session0'));
    expect(statSync(path.join(d, 'tuner', 'a-session0')).isDirectory()).toBe(true);
  });

  it('a pin root it cannot make is a diagnosis naming the path and the reason, not an internal error', () => {
    const d = mkdtempSync(path.join(tmpdir(), 'pins-'));
    dirs.push(d);
    writeFileSync(path.join(d, 'file'), '');
    const target = path.join(d, 'file', 'tuner');
    let err: unknown;
    try {
      makePinDir(target);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelError);
    expect((err as KernelError).message).toBe(`cannot make the pin directory ${target}: a parent is not a directory (ENOTDIR)`);
    expect((err as KernelError).hint).toMatch(/TUNER_PIN_ROOT/);
    expect((err as KernelError).exitCode).toBe(1);
  });
});
