/**
 * `compare` on profiles recorded on this machine (test/fixtures/profiles):
 * the mutex workload with 2 threads recorded twice in alternation, and with
 * 6 threads (more threads than CPUs on one lock). Variants (another kernel,
 * a failed run, other signals, a busier machine) are derived from them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compare, type CompareOptions } from '../../src/commands/compare.js';
import { UsageError } from '../../src/errors.js';
import { ProfileError, type Profile } from '../../src/record/profile.js';

const fixture = (name: string): string => fileURLToPathSafe(new URL(`../fixtures/profiles/${name}`, import.meta.url));
function fileURLToPathSafe(u: URL): string {
  return decodeURIComponent(u.pathname);
}
const BASE = fixture('mutex-base.json');
const SAME = fixture('mutex-same.json');
const REGRESSED = fixture('mutex-regressed.json');
const dir = mkdtempSync(path.join(os.tmpdir(), 'tuner-compare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (p: string): Profile => JSON.parse(readFileSync(p, 'utf8')) as Profile;
function variant(name: string, edit: (p: Profile) => void, from = SAME): string {
  const p = read(from);
  edit(p);
  const f = path.join(dir, name);
  writeFileSync(f, JSON.stringify(p));
  return f;
}
const run = (o: Partial<CompareOptions>) => compare({ base: BASE, new: SAME, threshold: 0.1, alpha: 0.05, ...o });

describe('compare (real profiles)', () => {
  it('the same workload recorded twice: nothing regressed, exit 0; one warning: its run-queue wait is out of reach', async () => {
    const r = await run({});
    expect(r.exit_code).toBe(0);
    expect(r.regressed).toEqual([]);
    // 2 threads on 2 CPUs: the run-queue wait is the neighbours' doing (0.2 to 200 ms between runs), and compare says so.
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(
      /^sched.runq_wait_ns \(log sd [\d.]+: \d+%, \d+ runs a side for 95%\): the runs of each side spread so widely/,
    );
    expect(r.metrics).toHaveLength(15);
    for (const m of r.metrics) {
      expect(['unchanged', 'too-noisy', 'improved']).toContain(m.verdict);
      expect([0, 8]).toContain(m.base.n); // 0: nothing measured (no I/O, so no I/O latency)
    }
  });

  it('six threads on the lock instead of two: run-queue wait regressed, exit 1; every field of a row', async () => {
    const r = await run({ new: REGRESSED });
    expect(r.exit_code).toBe(1);
    expect(r.regressed).toContain('sched.runq_wait_ns');
    expect(r.warnings.some((w) => w.includes('ran different commands'))).toBe(true);
    const row = r.metrics.find((m) => m.metric === 'sched.runq_wait_ns')!;
    expect(row.ratio).toBeGreaterThan(10);
    expect(row.ci!.ratio.low).toBeGreaterThan(1.1);
    expect(row.test!.rank_exact).toBe(true);
    expect(row.gated).toBe(true);
    expect(row.p_regressed_adjusted).toBeLessThan(0.05);
    expect(row.reason).toMatch(/significantly beyond \+10%/);
  });

  it('is deterministic: the same inputs give the same result', async () => {
    const a = await run({ new: REGRESSED });
    const b = await run({ new: REGRESSED });
    expect(a).toEqual(b);
  });

  it('a threshold above the regression turns it into no regression', async () => {
    const r = await run({ new: REGRESSED, threshold: 1000 });
    expect(r.regressed).toEqual([]);
    expect(r.exit_code).toBe(0);
  });

  it('--metrics narrows the gate (the rest are still reported); a pattern that matches nothing is a usage error', async () => {
    const r = await run({ new: REGRESSED, metrics: ['wall,cpu'] });
    expect(r.gated).toEqual(['wall_ns', 'cpu_ns']);
    expect(r.metrics).toHaveLength(15);
    expect(r.metrics.find((m) => m.metric === 'sched.runq_wait_ns')!.verdict).toBe('regressed');
    expect(r.exit_code).toBe(0);
    await expect(run({ metrics: ['nope'] })).rejects.toThrow(UsageError);
  });

  it('different environments: a loud warning, or exit 2 with --strict-env', async () => {
    const other = variant('other-kernel.json', (p) => {
      p.env.kernel = '6.1.0-99-amd64';
      p.env.cpus = 8;
    });
    const r = await run({ new: other });
    expect(r.warnings[0]).toMatch(/different environments \(kernel "6.18.44-fc-v782" vs "6.1.0-99-amd64"; cpus "2" vs "8"\)/);
    expect(r.env_differences.map((d) => d.field)).toEqual(['kernel', 'cpus']);
    const strict = run({ new: other, strictEnv: true });
    await expect(strict).rejects.toThrow(ProfileError);
    await expect(strict).rejects.toMatchObject({ exitCode: 2 });
  });

  it('warns when the machine was much busier with other work during one side', async () => {
    const busy = variant('busy.json', (p) => {
      for (const r of p.runs) r.details['host.other_busy_pct'] = 60;
    });
    const r = await run({ new: busy });
    expect(r.warnings.some((w) => /busier with other work during NEW/.test(w))).toBe(true);
  });

  it('a gated metric too noisy for any test at these counts: a warning says so and how many runs would do', async () => {
    // The run-queue wait of BASE's runs, spread from 1/10 to 10 times: no 5-run comparison can reliably tell 2x from that.
    const spread = [0.1, 10, 0.3, 3, 1, 0.2, 5, 1];
    const wild = (name: string, from: string) =>
      variant(name, (p) => p.runs.forEach((r, i) => (r.metrics['sched.runq_wait_ns'] = 50e6 * spread[i % spread.length]!)), from);
    const r = await run({ base: wild('wild-b.json', BASE), new: wild('wild-n.json', SAME) });
    const row = r.metrics.find((m) => m.metric === 'sched.runq_wait_ns')!;
    expect(row.verdict).toBe('too-noisy');
    expect(row.reach!.power_2x).toBeLessThan(0.95);
    expect(r.exit_code).toBe(0);
    expect(r.warnings.join('\n')).toMatch(
      /sched.runq_wait_ns \(log sd [\d.]+: \d+%, \d+ runs a side for 95%\): the runs of each side spread so widely that at 8 runs a side no test can reliably catch even a 2x change/,
    );
  });

  it('profiles with different signals: the common metrics are compared, the rest named', async () => {
    const noPsi = variant('no-psi.json', (p) => {
      p.signals = p.signals.filter((s) => s !== 'psi');
      for (const r of p.runs) for (const k of Object.keys(r.metrics)) if (k.startsWith('psi.')) delete r.metrics[k];
    });
    const r = await run({ new: noPsi });
    expect(r.metrics.some((m) => m.metric.startsWith('psi.'))).toBe(false);
    expect(r.warnings.join('\n')).toMatch(/only in BASE: psi.cpu_some_us, psi.memory_some_us, psi.io_some_us/);
  });

  it('2 runs a side, every NEW run worse: needs-more-runs fails the gate (exit 3) and says how many runs would tell', async () => {
    // Context switches: 68, 49 -> 83, 79, every NEW run above every BASE run by more than 10%.
    const two = (name: string, from: string) => variant(name, (p) => void (p.runs = p.runs.slice(0, 2)), from);
    const files = { base: two('b2.json', BASE), new: two('r2.json', REGRESSED), metrics: ['sched.switches'] };
    const r = await run(files);
    expect(r.regressed).toEqual([]);
    expect(r.needs_more_runs).toContain('sched.switches');
    expect(r.failing).toContain('sched.switches');
    expect(r.exit_code).toBe(3);
    const row = r.metrics.find((m) => m.metric === 'sched.switches')!;
    expect(row.separated).toBe('worse');
    expect(row.runs_needed).toBeGreaterThan(2);
    expect(r.warnings.join('\n')).toMatch(
      /sched.switches: consistently worse than BASE beyond the threshold, but 2 BASE and 2 NEW runs cannot make that significant: record about \d+ runs a side/,
    );
    const allowed = await run({ ...files, allowNeedsMoreRuns: true });
    expect(allowed.exit_code).toBe(0);
    expect(allowed.needs_more_runs).toContain('sched.switches');
  });

  it('2 runs a side: the run-queue wait per second of wall time quadrupled, a regression even at 2 runs', async () => {
    const two = (name: string, from: string) => variant(name, (p) => void (p.runs = p.runs.slice(0, 2)), from);
    const r = await run({ base: two('b2.json', BASE), new: two('r2.json', REGRESSED) });
    const row = r.metrics.find((m) => m.metric === 'sched.runq_wait_ns')!;
    expect(row.test!.t_scale).toBe('log-share-of-wall');
    expect(row.verdict).toBe('regressed');
    expect(r.exit_code).toBe(1);
  });

  it.each([
    ['a missing file', () => path.join(dir, 'missing.json'), /cannot read: ENOENT/],
    ['not JSON', () => (writeFileSync(path.join(dir, 'bad.json'), '{"format": '), path.join(dir, 'bad.json')), /not JSON/],
    [
      'not a profile',
      () => (writeFileSync(path.join(dir, 'np.json'), '{"signal": "sched"}'), path.join(dir, 'np.json')),
      /not a tuner profile/,
    ],
    [
      'a newer format',
      () => variant('v2.json', (p) => void ((p as { version: number }).version = 2)),
      /profile format version 2 is not supported/,
    ],
    ['a broken field', () => variant('broken.json', (p) => void ((p.runs[0] as { metrics: unknown }).metrics = 'x')), /runs\.0\.metrics/],
    [
      'a failed run',
      () => variant('failed.json', (p) => void ((p.runs[3]!.exit_code = 1), (p.ok = false))),
      /run 4 of the workload exited with code 1; a failed recording cannot be compared/,
    ],
  ])('%s is refused with exit status 2', async (_what, make, message) => {
    const p = run({ new: make() });
    await expect(p).rejects.toThrow(ProfileError);
    await expect(p).rejects.toThrow(message);
    await expect(p).rejects.toMatchObject({ exitCode: 2 });
  });
});

describe('compare: profiles recorded together by record --alternate', () => {
  const alt = (p: Profile, id: string, side: 'base' | 'new', partner: string): void => {
    p.alternated = { id, side, partner, partner_command: ['./other'], order: 'ABBA' };
  };
  const base = variant('alt-base.json', (p) => alt(p, 'rec-1', 'base', 'alt-new.json'), BASE);
  const next = variant('alt-new.json', (p) => alt(p, 'rec-1', 'new', 'alt-base.json'), REGRESSED);

  it('different commands are the point: a note that they were alternated, no warning', async () => {
    const r = await run({ base, new: next });
    expect(r.alternated).toBe(true);
    expect(r.warnings.some((w) => w.includes('ran different commands'))).toBe(false);
    expect(r.notes).toEqual([
      expect.stringMatching(/^BASE and NEW were recorded together by `tuner record --alternate`, run by run in ABBA order/),
    ]);
    expect(r.exit_code).toBe(1);
  });

  it.each([
    ['a partner of another recording', variant('alt-other.json', (p) => alt(p, 'rec-2', 'new', 'x.json'), REGRESSED)],
    ['a profile recorded alone', REGRESSED],
    ['the same side twice', variant('alt-same-side.json', (p) => alt(p, 'rec-1', 'base', 'x.json'), REGRESSED)],
  ])('not recorded together (%s): the warning stays, no note', async (_what, other) => {
    const r = await run({ base, new: other });
    expect(r.alternated).toBe(false);
    expect(r.notes).toEqual([]);
    expect(r.warnings.some((w) => w.includes('ran different commands'))).toBe(true);
  });
});
