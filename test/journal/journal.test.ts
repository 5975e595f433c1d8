import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, listJournals } from '../../src/journal/journal.js';
import { restoreStale } from '../../src/journal/restore.js';
import { KnobGone, knobId, type KnobIo, type KnobRef } from '../../src/knobs/knob.js';
import { selfOwner } from '../../src/loader/owner.js';
import { readMounts } from '../../src/procfs/mounts.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tuner-journal-'));
  dirs.push(d);
  return d;
}

/** In-memory knobs; a knob missing from the map is gone; `failing` ones throw on write. */
class MemIo implements KnobIo {
  writes: Array<[string, string]> = [];
  constructor(
    readonly values: Map<string, string>,
    readonly failing = new Set<string>(),
  ) {}
  readSync(k: KnobRef): string {
    const v = this.values.get(knobId(k));
    if (v === undefined) throw new KnobGone(`${knobId(k)} is gone`);
    return v;
  }
  writeSync(k: KnobRef, v: string): void {
    this.readSync(k);
    if (this.failing.has(knobId(k))) throw new Error('EBUSY');
    this.values.set(knobId(k), v);
    this.writes.push([knobId(k), v]);
  }
  async read(k: KnobRef) {
    return this.readSync(k);
  }
  async write(k: KnobRef, v: string) {
    this.writeSync(k, v);
  }
}

/** A knob file in a cgroup filesystem of this host (where revert may write; none of these cgroups exists). */
const CG = readMounts().find((m) => m.fsType === 'cgroup2' || m.fsType === 'cgroup')?.mountPoint ?? '/sys/fs/cgroup';
const K = (p: string): string => `${CG}/tuner-journal-test${p}/cpu.weight`;
const file = (p: string): KnobRef => ({ kind: 'file', path: K(p) });
const meta = { recipe: 'r', action: 'cpu_weight', target: '/p/hog' };

/** A trusted recipe "r" whose first action is a pressure_backoff calling `command` (in `dir`). */
function hookRecipe(dir: string, command: string[], timeout = '1s'): string {
  const f = path.join(dir, 'r.yaml');
  const cmd = command.map((c) => JSON.stringify(c)).join(', ');
  writeFileSync(
    f,
    `name: r\ndescription: d\ndetectors:\n  p: { signal: psi.cpu.some_avg10, above: 40, clear: 10 }\nactions:\n  - action: pressure_backoff\n    target: scope\n    quota: false\n    bounds: { min_cpus: 0.5 }\n    hook: { command: [${cmd}], timeout: ${timeout} }\n`,
    { mode: 0o600 },
  );
  return f;
}
const dead = { pid: process.pid, start: 1 }; // our PID with another start time: a process that is gone

describe('journal', () => {
  it('is durable before the knob changes: original and every intended value are on disk', () => {
    const d = dir();
    const j = Journal.open(d, dead);
    j.record(file('/a'), '262144', '25600', meta);
    const onDisk = () => JSON.parse(readFileSync(j.file, 'utf8'));
    expect(onDisk().entries).toEqual([
      expect.objectContaining({ id: 'file:' + K('/a'), original: '262144', written: ['25600'], recipe: 'r' }),
    ]);
    j.record(file('/a'), '25600', '6400', meta); // the original stays the first one
    j.confirm(file('/a'), '6399');
    expect(onDisk().entries[0]).toMatchObject({ original: '262144', written: ['25600', '6400', '6399'] });
    expect(readdirSync(d)).toEqual([path.basename(j.file)]); // no temporary file left
    j.forget(file('/a'));
    expect(existsSync(j.file)).toBe(false); // nothing left to restore: no journal kept, even before close
    j.close();
    expect(existsSync(j.file)).toBe(false);
  });

  it("restores a dead tuner's knobs: only values it wrote; yields to foreign values; skips gone knobs; always calls hooks back", async () => {
    const d = dir();
    const j = Journal.open(d, dead);
    const hook: KnobRef = { kind: 'hook', id: 'r/0/p', argv: ['/bin/true', '{level}'], timeoutMs: 1000 };
    const recipeFile = hookRecipe(d, ['/bin/true', '{level}']);
    j.record(file('/ours'), '262144', '25600', meta);
    j.record(file('/ours'), '262144', '6400', meta);
    j.record(file('/untouched'), '100', '50', meta); // killed between journal and write
    j.record(file('/foreign'), '128', '256', meta);
    j.record(file('/gone'), '1', '2', meta);
    j.record(hook, '0', '1', { recipe: 'r', recipeFile, action: 'pressure_backoff', target: 'p' });
    const io = new MemIo(
      new Map([
        ['file:' + K('/ours'), '6400'],
        ['file:' + K('/untouched'), '100'],
        ['file:' + K('/foreign'), '4096'],
        [knobId(hook), '0'],
      ]),
    );
    const { restored, live } = await restoreStale(io, d);
    expect(live).toEqual([]);
    expect(restored).toHaveLength(1);
    expect(restored[0]!.outcomes.filter((o) => o.detail !== undefined && o.result !== 'gone' && o.result !== 'yielded')).toEqual([]);
    expect(restored[0]!.removed).toBe(true);
    expect(Object.fromEntries(restored[0]!.outcomes.map((o) => [o.knob, o.result]))).toEqual({
      [K('/ours')]: 'restored',
      [K('/untouched')]: 'unchanged',
      [K('/foreign')]: 'yielded',
      [K('/gone')]: 'gone',
      'hook /bin/true level': 'restored',
    });
    // Newest change first.
    expect(io.writes).toEqual([
      [knobId(hook), '0'],
      ['file:' + K('/ours'), '262144'],
    ]);
    expect(io.values.get('file:' + K('/foreign'))).toBe('4096');
    expect(readdirSync(d)).toEqual(['r.yaml']); // the journal is gone
  });

  it("keeps a journal whose restore failed (to retry), and never touches a live tuner's journal", async () => {
    const d = dir();
    const j = Journal.open(d, dead);
    j.record(file('/busy'), '1', '2', meta);
    const io = new MemIo(new Map([['file:' + K('/busy'), '2']]), new Set(['file:' + K('/busy')]));
    const r1 = await restoreStale(io, d);
    expect(r1.restored[0]).toMatchObject({ removed: false, outcomes: [expect.objectContaining({ result: 'failed', detail: 'EBUSY' })] });
    expect(existsSync(j.file)).toBe(true);
    io.failing.clear();
    expect((await restoreStale(io, d)).restored[0]!.removed).toBe(true);

    const mine = Journal.open(d, selfOwner());
    mine.record(file('/live'), '1', '2', meta);
    const io2 = new MemIo(new Map([['file:' + K('/live'), '2']]));
    const r2 = await restoreStale(io2, d);
    expect(r2.live).toEqual([mine.file]);
    expect(io2.writes).toEqual([]);
    mine.forget(file('/live'));
    mine.close();
  });

  it('a journal that cannot be written throws a clear error and keeps nothing of the failed record', () => {
    const d = dir();
    const j = Journal.open(d, dead);
    j.record(file('/a'), '1', '2', meta);
    mkdirSync(`${j.file}.tmp`); // the next write cannot create its temporary file
    expect(() => j.record(file('/b'), '5', '6', meta)).toThrow(
      /cannot write the journal .* \(EISDIR\): tuner changes nothing it cannot journal first/,
    );
    expect(() => j.record(file('/a'), '1', '3', meta)).toThrow(/cannot write the journal/);
    expect(j.entries()).toEqual([expect.objectContaining({ id: 'file:' + K('/a'), written: ['2'] })]);
    rmSync(`${j.file}.tmp`, { recursive: true });
    j.forget(file('/a'));
    j.close();
    expect(readdirSync(d)).toEqual([]);
  });

  it('reports an unreadable journal instead of skipping it', () => {
    const d = dir();
    writeFileSync(path.join(d, '1-2.json'), '{"oops"');
    expect(listJournals(d)).toEqual([expect.objectContaining({ file: path.join(d, '1-2.json'), alive: false, error: expect.any(String) })]);
  });
});
