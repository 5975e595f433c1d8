/** The gate: the command runs only after release, keeps its PID and exit status; a closed gate runs nothing. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GATE_CLOSED, resolveCommand, spawnGated } from '../../src/record/gate.js';
import { UsageError } from '../../src/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tuner-gate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('spawnGated', () => {
  it('holds the command until release, then execs it under the same PID', async () => {
    const marker = path.join(dir, 'ran');
    const g = spawnGated(['/bin/sh', '-c', `echo $$ > ${marker}; exit 3`], 'ignore');
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(marker)).toBe(false);
    const t0 = g.release();
    const exit = await g.exited;
    expect(exit.code).toBe(3);
    expect(exit.endNs).toBeGreaterThan(t0);
    expect(Number(readFileSync(marker, 'utf8'))).toBe(g.pid);
  });

  it('runs nothing when the gate closes without "go" (tuner died first)', async () => {
    const marker = path.join(dir, 'never');
    const g = spawnGated(['/bin/sh', '-c', `touch ${marker}`], 'ignore');
    g.kill('SIGTERM');
    const exit = await g.exited;
    expect(exit.code === GATE_CLOSED || exit.signal === 'SIGTERM').toBe(true);
    expect(existsSync(marker)).toBe(false);
  });

  it('reports a command killed by a signal', async () => {
    const g = spawnGated(['/bin/sh', '-c', 'kill -KILL $$'], 'ignore');
    g.release();
    expect((await g.exited).signal).toBe('SIGKILL');
  });
});

describe('resolveCommand', () => {
  it('finds commands in PATH and accepts executable paths', () => {
    expect(resolveCommand('sh', '/usr/bin:/bin')).toMatch(/\/sh$/);
    expect(resolveCommand('/bin/sh')).toBe('/bin/sh');
  });
  it('refuses what exec would not run', () => {
    expect(() => resolveCommand('no-such-command-xyz', '/usr/bin:/bin')).toThrow(UsageError);
    const plain = path.join(dir, 'plain.txt');
    writeFileSync(plain, 'not a program\n', { mode: 0o644 });
    expect(() => resolveCommand(plain)).toThrow(/not an executable file/);
    expect(() => resolveCommand('/etc')).toThrow(/not an executable file/);
  });
});
