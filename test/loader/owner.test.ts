import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ownerAlive, processStat } from '../../src/loader/owner.js';

/** Poll until `f` returns a value (or fail after `ms`). */
async function until<T>(f: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('owner', () => {
  it('a live process is alive; another start time is not', () => {
    const start = processStat(process.pid)!.start;
    expect(ownerAlive({ pid: process.pid, start })).toBe(true);
    expect(ownerAlive({ pid: process.pid, start: start + 1 })).toBe(false);
  });

  it('a zombie (exited, not yet reaped by its parent) is gone', async () => {
    // sh starts a child that exits at once, then execs into sleep, which never reaps it: the child stays a zombie.
    const parent = execa('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 30'], { buffer: false, stdin: 'ignore' });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        parent.stdout!.once('data', (b: Buffer) => resolve(Number(String(b).trim())));
        parent.once('error', reject);
      });
      const zombie = await until(() => {
        const st = processStat(pid);
        return st?.state === 'Z' ? st : undefined;
      });
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/\) Z /); // the kernel's own view
      expect(ownerAlive({ pid, start: zombie.start })).toBe(false);
    } finally {
      parent.kill('SIGKILL');
      await parent.catch(() => undefined);
    }
  });

  it('state X (dead) is gone too; comm with spaces and parentheses is parsed', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const root = mkdtempSync('/tmp/tuner-proc-');
    try {
      const stat = (state: string) => `4242 (a) b (c)) ${state} 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0\n`;
      mkdirSync(`${root}/4242`);
      writeFileSync(`${root}/4242/stat`, stat('S'));
      expect(processStat(4242, root)).toEqual({ state: 'S', start: 777 });
      expect(ownerAlive({ pid: 4242, start: 777 }, root)).toBe(true);
      writeFileSync(`${root}/4242/stat`, stat('X'));
      expect(ownerAlive({ pid: 4242, start: 777 }, root)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
