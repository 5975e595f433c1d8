import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KnobGone, KnobTimeout } from '../../src/knobs/knob.js';
import { RealIo } from '../../src/knobs/real-io.js';
import { Journal } from '../../src/journal/journal.js';
import { restoreEntry } from '../../src/journal/restore.js';
import { fakeTree } from '../helpers/fake-sys.js';

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

describe('RealIo: the pages of a process (migratepages)', () => {
  // A fake /proc and a stand-in migratepages on PATH that logs its arguments
  // and moves the fake process's pages the way the real one would.
  function scene(numaMaps: string) {
    const t = fakeTree({
      cpus: 4,
      nodes: [
        [0, 1],
        [2, 3],
      ],
    });
    dirs.push(path.dirname(t.proc));
    t.addProcess(70, { threads: [{ tid: 70, start: 5000 }], numaMaps });
    const bin = dir();
    const log = path.join(bin, 'calls');
    writeFileSync(
      path.join(bin, 'migratepages'),
      `#!/bin/sh\necho "$@" >> ${log}\nprintf 'a default N%s=1000\\n' "$3" > ${t.proc}/$1/numa_maps\n`,
      { mode: 0o755 },
    );
    const pathBefore = process.env.PATH;
    process.env.PATH = `${bin}:${pathBefore}`;
    restore.push(() => (process.env.PATH = pathBefore));
    const calls = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
    return { io: new RealIo(500, t.proc), knob: { kind: 'pages' as const, pid: 70, start: 5000 }, calls, proc: t.proc };
  }
  const restore: Array<() => void> = [];
  afterEach(() => {
    for (const r of restore.splice(0)) r();
  });

  it('reads the nodes holding pages, moves the ones outside the target, and restores a single node exactly', async () => {
    const { io, knob, calls } = scene('7f00 default anon=10 N0=900\n7f10 default N0=50 N1=100\n');
    expect(await io.read(knob)).toBe('0-1');
    await io.write(knob, '1');
    expect(calls()).toEqual(['70 0 1']);
    expect(await io.read(knob)).toBe('1');
    io.writeSync(knob, '0'); // the exit path
    expect(calls()).toEqual(['70 0 1', '70 1 0']);
    expect(io.readSync(knob)).toBe('0');
  });

  it('pages bound to node 1 with a few shared pages on node 0: the node is 1, and revert after a move puts them back on it', async () => {
    // As `numactl --membind=1` leaves a process: its memory on node 1, some library pages (page cache) on node 0.
    const { io, knob, calls, proc } = scene('7f00 default anon=32768 N1=32768\n7f80 file=/usr/lib/libc.so.6 mapped=40 N0=40\n');
    expect(await io.read(knob)).toBe('1');
    await io.write(knob, '0'); // the step
    expect(calls()).toEqual(['70 1 0']);
    expect(await io.read(knob)).toBe('0');
    // tuner revert, from the journal the run left: the original is node 1, and the pages go back there.
    const d = dir();
    const j = Journal.open(d, { pid: process.pid, start: 1 });
    j.record(knob, '1', '0', { recipe: 'numa', action: 'numa_rebalance', target: '70' });
    const [entry] = j.entries();
    expect(await restoreEntry(io, entry!)).toMatchObject({ result: 'restored', found: '0', original: '1' });
    expect(calls()).toEqual(['70 1 0', '70 0 1']);
    expect(readFileSync(path.join(proc, '70', 'numa_maps'), 'utf8')).toContain('N1=1000');
    expect(await io.read(knob)).toBe('1');
  });

  it('restoring a spread moves nothing: no page is outside the nodes that held pages before', async () => {
    const { io, knob, calls } = scene('7f00 default N0=900 N1=100\n');
    await io.write(knob, '0');
    expect(calls()).toEqual(['70 1 0']);
    await io.write(knob, '0-1');
    expect(calls()).toEqual(['70 1 0']);
  });

  it('a process that is gone, or a reused PID, is KnobGone; a missing migratepages says which package', async () => {
    const { io, knob, proc } = scene('7f00 default N0=900 N1=100\n');
    await expect(io.read({ ...knob, start: 4999 })).rejects.toBeInstanceOf(KnobGone);
    await expect(io.write({ ...knob, pid: 71 }, '0')).rejects.toBeInstanceOf(KnobGone);
    process.env.PATH = '/nonexistent';
    await expect(io.write(knob, '0')).rejects.toThrow(/migratepages \(package numactl\) is not installed/);
    expect(() => io.writeSync(knob, '0')).toThrow(/migratepages \(package numactl\) is not installed/);
    expect(readFileSync(path.join(proc, '70', 'numa_maps'), 'utf8')).toContain('N1=100');
  });
});
