/**
 * A journal is input obeyed as root: revert refuses one that someone else
 * could have written (file or directory), one that asks for a knob outside
 * the places tuner's actions touch, and a hook no trusted recipe declares;
 * it says which and why, exits non-zero and applies nothing refused.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, listJournals } from '../../src/journal/journal.js';
import { restoreStale } from '../../src/journal/restore.js';
import { knobRefusal } from '../../src/knobs/allowed.js';
import { knobId, type KnobIo, type KnobRef } from '../../src/knobs/knob.js';
import { readMounts } from '../../src/procfs/mounts.js';
import { revertExitCode } from '../../src/commands/revert.js';
import { tuner } from '../helpers/cli.js';

const asRoot = process.geteuid?.() === 0;
const NOBODY = 65534;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tuner-trust-'));
  dirs.push(d);
  return d;
}

const CG = readMounts().find((m) => m.fsType === 'cgroup2' || m.fsType === 'cgroup')?.mountPoint ?? '/sys/fs/cgroup';
const dead = { pid: process.pid, start: 1 };
const meta = { recipe: 'r', action: 'cpu_weight', target: 'x' };

/** Records every write; every knob reads as the value tuner wrote (so restore would write the original). */
class Recorder implements KnobIo {
  writes: Array<[string, string]> = [];
  readSync(): string {
    return '2';
  }
  writeSync(k: KnobRef, v: string): void {
    this.writes.push([knobId(k), v]);
  }
  async read() {
    return '2';
  }
  async write(k: KnobRef, v: string) {
    this.writeSync(k, v);
  }
}

/** A dead tuner's journal in `d` that set `knob` from 1 to 2. */
function journalWith(d: string, knob: KnobRef, m: Parameters<Journal['record']>[3] = meta): string {
  const j = Journal.open(d, dead);
  j.record(knob, '1', '2', m);
  return j.file;
}

describe.skipIf(!asRoot)('revert trusts only journals only root could write', () => {
  it('refuses a journal file owned by another user, or writable by group or others: nothing applied, exit 2', async () => {
    for (const [how, change] of [
      ['owned by uid 65534', (f: string) => chownSync(f, NOBODY, NOBODY)],
      ['writable by others (mode 0602)', (f: string) => chmodSync(f, 0o602)],
      ['writable by group (mode 0620)', (f: string) => chmodSync(f, 0o620)],
    ] as const) {
      const d = dir();
      const f = journalWith(d, { kind: 'file', path: `${CG}/tuner-trust/cpu.weight` });
      change(f);
      const io = new Recorder();
      const { restored } = await restoreStale(io, d);
      expect(io.writes, how).toEqual([]);
      expect(restored[0], how).toMatchObject({ refused: true, removed: false });
      expect(restored[0]!.error, how).toMatch(
        how.startsWith('owned') ? /owned by uid 65534, not by root/ : /writable by (group|others) \(mode 06[02][02]\)/,
      );
      expect(existsSync(f), how).toBe(true);
      expect(revertExitCode(restored)).toBe(2);
    }
  });

  it('refuses every journal of a directory owned by another user or writable by others, and a symbolic link', async () => {
    const d = dir();
    const f = journalWith(d, { kind: 'file', path: `${CG}/tuner-trust/cpu.weight` });
    chmodSync(d, 0o777);
    const io = new Recorder();
    let { restored } = await restoreStale(io, d);
    expect(restored[0]).toMatchObject({
      refused: true,
      error: expect.stringMatching(/journal directory .* refused: it is writable by group and others \(mode 0777\)/),
    });
    chmodSync(d, 0o700);
    chownSync(d, NOBODY, NOBODY);
    ({ restored } = await restoreStale(io, d));
    expect(restored[0]).toMatchObject({ refused: true, error: expect.stringMatching(/owned by uid 65534/) });
    chownSync(d, 0, 0);
    const other = dir();
    const target = journalWith(other, { kind: 'file', path: `${CG}/tuner-trust/cpu.shares` });
    rmSync(f);
    symlinkSync(target, path.join(d, '9-9.json'));
    ({ restored } = await restoreStale(io, d));
    expect(restored[0]).toMatchObject({ refused: true, error: expect.stringMatching(/symbolic link/) });
    expect(io.writes).toEqual([]);
  });

  it("refuses knob paths outside cgroup knob files and disks' read_ahead_kb, and restores the rest", async () => {
    const d = dir();
    const victim = path.join(d, 'victim');
    writeFileSync(victim, '2');
    const j = Journal.open(d, dead);
    const bad = [
      victim,
      '/etc/passwd',
      `${CG}/../../../tmp/x/cpu.weight`,
      `${CG}/tuner-trust/cgroup.kill`,
      `${CG}/tuner-trust/cgroup.procs`,
      'relative/cpu.weight',
      '/sys/block/sda/queue/scheduler',
    ];
    for (const p of bad) j.record({ kind: 'file', path: p }, '1', '2', meta);
    const good = [`${CG}/tuner-trust/cpu.weight`, '/sys/block/nosuchdisk/queue/read_ahead_kb'];
    for (const p of good) j.record({ kind: 'file', path: p }, '1', '2', meta);
    const io = new Recorder();
    const { restored } = await restoreStale(io, d);
    const by = Object.fromEntries(restored[0]!.outcomes.map((o) => [o.knob, o.result]));
    for (const p of bad) expect(by[p], p).toBe('refused');
    for (const p of good) expect(by[p], p).toBe('restored');
    expect(io.writes.map(([k]) => k).sort()).toEqual(good.map((p) => `file:${p}`).sort());
    expect(readFileSync(victim, 'utf8')).toBe('2');
    expect(restored[0]!.removed).toBe(false); // kept: a refused knob is not put back
    expect(revertExitCode(restored)).toBe(2);
    expect(knobRefusal({ kind: 'file', path: victim })).toMatch(/neither in a cgroup filesystem nor a disk/);
  });

  it('runs a hook only when a trusted recipe still declares that exact command', async () => {
    const d = dir();
    const marker = path.join(d, 'ran');
    const recipeDir = path.join(d, 'recipes');
    mkdirSync(recipeDir, { mode: 0o755 });
    const recipe = path.join(recipeDir, 'r.yaml');
    const write = (cmd: string[]) =>
      writeFileSync(
        recipe,
        `name: r\ndescription: d\ndetectors:\n  p: { signal: psi.cpu.some_avg10, above: 40, clear: 10 }\nactions:\n  - action: pressure_backoff\n    target: scope\n    quota: false\n    bounds: { min_cpus: 0.5 }\n    hook: { command: ${JSON.stringify(cmd)}, timeout: 2s }\n`,
        { mode: 0o644 },
      );
    const hook = (argv: string[]): KnobRef => ({ kind: 'hook', id: 'r/0/x', argv, timeoutMs: 2000 });
    const jdir = path.join(d, 'journal');
    mkdirSync(jdir, { mode: 0o700 });
    const run = async () => {
      const r = await tuner(['revert', '--json'], { env: { TUNER_JOURNAL_DIR: jdir } });
      return {
        code: r.exitCode,
        out: JSON.parse(String(r.stdout)) as { journals: Array<{ outcomes: Array<{ result: string; detail?: string }> }> },
      };
    };
    // 1. No recipe named: refused.
    journalWith(jdir, hook(['/usr/bin/touch', marker]));
    let r = await run();
    expect(r.code).toBe(2);
    expect(r.out.journals[0]!.outcomes[0]).toMatchObject({
      result: 'refused',
      detail: expect.stringMatching(/does not name the recipe file/),
    });
    expect(existsSync(marker)).toBe(false);
    rmSync(jdir, { recursive: true });
    mkdirSync(jdir, { mode: 0o700 });
    // 2. The recipe declares another command: refused.
    write(['/bin/true', '{level}']);
    journalWith(jdir, hook(['/usr/bin/touch', marker]), { recipe: 'r', recipeFile: recipe, action: 'pressure_backoff', target: 'x' });
    r = await run();
    expect(r.code).toBe(2);
    expect(r.out.journals[0]!.outcomes[0]!.detail).toMatch(/declares another command/);
    expect(existsSync(marker)).toBe(false);
    // 3. The recipe declares it, but others can write the recipe: refused.
    write(['/usr/bin/touch', marker]);
    chmodSync(recipe, 0o666);
    r = await run();
    expect(r.code).toBe(2);
    expect(r.out.journals[0]!.outcomes[0]!.detail).toMatch(/cannot be trusted/);
    expect(existsSync(marker)).toBe(false);
    // 4. A trusted recipe declares exactly this command: it runs, the journal goes.
    chmodSync(recipe, 0o644);
    r = await run();
    expect(r.code).toBe(0);
    expect(r.out.journals[0]!.outcomes[0]).toMatchObject({ result: 'restored' });
    expect(existsSync(marker)).toBe(true);
    expect(listJournals(jdir)).toEqual([]);
  });

  it('revert on the command line: says which journal and why, exit 2, knob untouched', async () => {
    const d = dir();
    const f = journalWith(d, { kind: 'file', path: path.join(d, 'x') });
    writeFileSync(path.join(d, 'x'), '2');
    let r = await tuner(['revert'], { env: { TUNER_JOURNAL_DIR: d } });
    expect(r.exitCode).toBe(2);
    expect(String(r.stdout)).toMatch(/REFUSED, not touched: .*neither in a cgroup filesystem/);
    expect(String(r.stdout)).toMatch(/1 knob: 0 restored, .*1 refused/);
    expect(readFileSync(path.join(d, 'x'), 'utf8')).toBe('2');
    chmodSync(f, 0o666);
    r = await tuner(['revert'], { env: { TUNER_JOURNAL_DIR: d } });
    expect(r.exitCode).toBe(2);
    expect(String(r.stdout)).toContain(`journal ${f} refused: it is writable by group and others (mode 0666)`);
    expect(String(r.stderr)).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });
});
