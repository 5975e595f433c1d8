import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commOf, parseStat, readStat, readStatus, statusField, statusKb } from '../../src/procfs/pid.js';

// A stat line of a thread whose name holds a space and both parentheses; fields numbered as in proc(5).
const fields = (over: Record<number, string>): string[] => Array.from({ length: 52 }, (_, i) => over[i + 1] ?? String(i + 1));
const line = (comm: string, over: Record<number, string> = {}): string => {
  const f = fields(over);
  return [f[0], `(${comm})`, ...f.slice(2)].join(' ') + '\n';
};

describe('parseStat', () => {
  it.each([
    ['plain name', 'node', { 3: 'S', 14: '120', 15: '30', 16: '7', 17: '2', 20: '11', 22: '98765', 39: '1' }],
    ['name with a space and parentheses', 'a (b) c)', { 3: 'Z', 14: '0', 15: '1', 16: '0', 17: '0', 20: '1', 22: '5', 39: '0' }],
  ])('%s', (_what, comm, f) => {
    expect(parseStat(line(comm, f))).toEqual({
      comm,
      state: f[3],
      ppid: 4,
      utime: Number(f[14]),
      stime: Number(f[15]),
      cutime: Number(f[16]),
      cstime: Number(f[17]),
      threads: Number(f[20]),
      start: Number(f[22]),
      processor: Number(f[39]),
    });
  });

  it('is undefined for text that is not a stat line', () => {
    expect(parseStat('')).toBeUndefined();
    expect(parseStat('1 no parentheses S')).toBeUndefined();
  });

  it('agrees with this process: its own name, running, started before now', () => {
    const st = readStat(process.pid)!;
    expect(st.state).toBe('R');
    expect(st.comm).toBe(commOf(process.pid));
    expect(st.start).toBeGreaterThan(0);
    expect(st.threads).toBeGreaterThanOrEqual(1);
  });
});

describe('a fake /proc tree', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'tuner-pid-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, '42', 'task', '43'), { recursive: true });
  writeFileSync(path.join(root, '42', 'stat'), line('main', { 3: 'S', 22: '100' }));
  writeFileSync(path.join(root, '42', 'task', '43', 'stat'), line('worker', { 3: 'R', 22: '101', 39: '3' }));
  writeFileSync(path.join(root, '42', 'status'), 'Name:\tmain\nVmRSS:\t  2048 kB\nCpus_allowed_list:\t0-1\n');
  writeFileSync(path.join(root, '42', 'comm'), 'main\n');

  it('reads a process, a thread, status fields and the name; undefined or empty when gone', () => {
    expect(readStat(42, undefined, root)).toMatchObject({ comm: 'main', state: 'S', start: 100 });
    expect(readStat(42, 43, root)).toMatchObject({ comm: 'worker', state: 'R', start: 101, processor: 3 });
    const status = readStatus(42, root)!;
    expect(statusField(status, 'Cpus_allowed_list')).toBe('0-1');
    expect(statusKb(status, 'VmRSS')).toBe(2048);
    expect(statusKb(status, 'VmHWM')).toBe(0);
    expect(commOf(42, root)).toBe('main');
    expect(readStat(7, undefined, root)).toBeUndefined();
    expect(readStatus(7, root)).toBeUndefined();
    expect(commOf(7, root)).toBe('');
  });
});
