/**
 * `tuner record` on a terminal shows which run of how many is going and the
 * time left; with stderr a pipe (a CI log) it shows none of that. The
 * terminal is a real pseudo-terminal (util-linux `script`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI, tuner } from '../helpers/cli.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';
import { workload } from '../helpers/workloads.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tuner-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  expect(leftoverPins()).toEqual([]);
});

describe.skipIf(skipKernel)('tuner record progress', () => {
  const args = (out: string): string[] => [
    'record',
    '--repeat',
    '3',
    '--warmup',
    '1',
    '--quiet',
    '--signals',
    'sched',
    '-o',
    out,
    '--',
    workload('mutex'),
    '2',
    '20000',
    '2000',
    '30000',
  ];

  it('stderr a terminal: run i of n and the time left', async () => {
    const out = path.join(dir, 'tty.json');
    const line = ['node', CLI, ...args(out)].map((a) => `'${a}'`).join(' ');
    const r = await execa('script', ['-qec', line, '/dev/null'], { reject: false, stdin: 'ignore' });
    expect(r.exitCode, String(r.stdout)).toBe(0);
    const text = String(r.stdout);
    expect(text).toContain('tuner record: warm-up 1/1, time left unknown until a run ends');
    for (const i of [1, 2, 3]) expect(text).toMatch(new RegExp(`tuner record: run ${i}/3, (about \\d+ s|under a second) left`));
    expect(text).toContain('\x1b[K');
  });

  it('stderr not a terminal: no progress line', async () => {
    const r = await tuner(args(path.join(dir, 'pipe.json')));
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stderr)).not.toMatch(/left|\x1b\[K/);
    expect(String(r.stderr)).toMatch(/tuner record: run 3\/3: /); // the per-run log lines stay
  });
});
