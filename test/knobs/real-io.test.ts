import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KnobGone, KnobTimeout } from '../../src/knobs/knob.js';
import { RealIo } from '../../src/knobs/real-io.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tuner-io-'));
  dirs.push(d);
  return d;
}

describe('RealIo', () => {
  it('reads normalized values, writes without creating files, reports gone knobs', async () => {
    const d = dir();
    const f = path.join(d, 'cpu.max');
    writeFileSync(f, 'max   100000\n');
    const io = new RealIo(500);
    expect(await io.read({ kind: 'file', path: f })).toBe('max 100000');
    await io.write({ kind: 'file', path: f }, '50000 100000');
    expect(io.readSync({ kind: 'file', path: f })).toBe('50000 100000');
    await expect(io.write({ kind: 'file', path: path.join(d, 'missing') }, '1')).rejects.toBeInstanceOf(KnobGone);
    expect(() => io.writeSync({ kind: 'file', path: path.join(d, 'missing') }, '1')).toThrow(KnobGone);
  });

  it('times out a file that does not answer (a FIFO nobody writes)', async () => {
    const d = dir();
    const fifo = path.join(d, 'stuck');
    execFileSync('mkfifo', [fifo]);
    const io = new RealIo(200);
    const t0 = Date.now();
    await expect(io.read({ kind: 'file', path: fifo })).rejects.toThrow(KnobTimeout);
    expect(Date.now() - t0).toBeLessThan(2000);
    // Release the thread still blocked in open().
    closeSync(openSync(fifo, 'w'));
  });

  it('runs hooks without a shell, substitutes {level}, times them out', async () => {
    const d = dir();
    const log = path.join(d, 'log');
    const io = new RealIo();
    const marker = path.join(d, 'injected');
    const hook = { kind: 'hook' as const, id: 'h', argv: ['/bin/echo', '{level}; touch', marker], timeoutMs: 2000 };
    await io.write(hook, '3');
    // Arguments stay arguments: no shell ever sees "; touch".
    expect(existsSync(marker)).toBe(false);
    const logged = { kind: 'hook' as const, id: 'l', argv: ['/bin/sh', '-c', `echo "$0" >> ${log}`, 'level {level}'], timeoutMs: 2000 };
    await io.write(logged, '3');
    expect(readFileSync(log, 'utf8')).toBe('level 3\n');
    expect(await io.read(hook)).toBe('3');
    const slow = { kind: 'hook' as const, id: 's', argv: ['/bin/sleep', '5'], timeoutMs: 200 };
    await expect(io.write(slow, '1')).rejects.toBeInstanceOf(KnobTimeout);
  });
});
