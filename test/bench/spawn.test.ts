/** The benchmark's cleanup of the processes it started: a tuner gets SIGTERM (it reverts and unpins) before any SIGKILL. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { endAll } from '../../bench/lib/spawn.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A node child that writes `marker` when SIGTERM reaches it (then exits), or ignores SIGTERM. */
function child(marker: string, honour: boolean) {
  const code = honour
    ? `process.on('SIGTERM', () => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); process.exit(0); }); setInterval(() => {}, 1000);`
    : `process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);`;
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}
const ready = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

describe('endAll', () => {
  it('sends SIGTERM and waits for the child to clean up, without SIGKILL', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tuner-spawn-'));
    dirs.push(dir);
    const marker = path.join(dir, 'cleaned');
    const c = child(marker, true);
    await ready(300);
    const exited = new Promise<NodeJS.Signals | null>((r) => c.on('exit', (_code, sig) => r(sig)));
    endAll([c], 5000);
    expect(existsSync(marker)).toBe(true);
    expect(await exited).toBeNull(); // exited by itself (status 0), not killed by a signal
  });

  it('kills a child that ignores SIGTERM once the grace time is over', async () => {
    const c = child('', false);
    await ready(300);
    const exited = new Promise<NodeJS.Signals | null>((r) => c.on('exit', (_code, sig) => r(sig)));
    const t0 = Date.now();
    endAll([c], 400);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
    expect(await exited).toBe('SIGKILL');
    expect(gone(c.pid!)).toBe(true);
  });
});
