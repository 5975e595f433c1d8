/**
 * Crash safety and coexistence on this machine, with recipes/noisy-neighbor.yaml
 * acting on test cgroups: kill -9 in the middle of a nudge (the journal written,
 * the knob not yet), then `tuner revert`; the next `tuner run --apply`
 * restoring a dead run's journal; Ctrl-C and SIGTERM reverting; and yielding
 * to an administrator who changes a knob the tuner set.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tuner } from '../helpers/cli.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';
import { cleanup, noisyNeighbor, RECIPE } from '../helpers/noisy-neighbor.js';
import { journalDir, startTuner, until } from '../helpers/tuner-run.js';

afterEach(cleanup);

function journalEntries(j: ReturnType<typeof journalDir>): Array<{ original: string; written: string[] }> {
  const f = j.files()[0];
  if (!f) return [];
  try {
    return JSON.parse(readFileSync(path.join(j.dir, f), 'utf8')).entries;
  } catch {
    return []; // being renamed into place
  }
}

describe.skipIf(skipKernel)('crash safety and coexistence', () => {
  it('kill -9 mid-nudge, then `tuner revert`: every knob restored, journal and pins gone', async () => {
    const { parent, hog, journal, env } = await noisyNeighbor();
    // Each nudge pauses 3 s between journaling and writing: a window to kill it in.
    const run = startTuner(['run', RECIPE, '--apply', '--watch', '--cgroup', parent.path], { ...env, TUNER_TEST_NUDGE_PAUSE_MS: '3000' });
    // The first nudge is applied; the second is journaled but not written yet.
    const seen = (): unknown => ({ events: run.events.map(({ type, kind, text }) => ({ type, kind, text })), stderr: run.stderr() });
    await until(() => hog.read('cpu.shares') === '25600', 30_000, 'the first nudge', seen);
    await until(() => journalEntries(journal)[0]?.written.includes('6400'), 30_000, 'the second nudge to be journaled', seen);
    expect(hog.read('cpu.shares')).toBe('25600');
    run.proc.kill('SIGKILL');
    await run.proc.catch(() => undefined);
    expect(journalEntries(journal)).toEqual([expect.objectContaining({ original: '262144', written: ['25600', '6400'] })]);
    expect(leftoverPins().length).toBeGreaterThan(0); // the dead run's BPF pins

    const r = await tuner(['revert', '--json'], { env });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = JSON.parse(String(r.stdout));
    expect(out.journals).toHaveLength(1);
    expect(out.journals[0]).toMatchObject({
      removed: true,
      outcomes: [{ knob: path.join(hog.path, 'cpu.shares'), found: '25600', original: '262144', result: 'restored' }],
    });
    expect(out.pins.length).toBeGreaterThan(0);
    expect(hog.read('cpu.shares')).toBe('262144');
    expect(journal.files()).toEqual([]);
    expect(leftoverPins()).toEqual([]);
    // Nothing left to do the second time.
    const again = await tuner(['revert'], { env });
    expect(String(again.stdout)).toContain('nothing to revert');
  });

  it('kill -9 before the first write: the knob still holds its original, revert leaves it and clears the journal', async () => {
    const { parent, hog, journal, env } = await noisyNeighbor();
    const run = startTuner(['run', RECIPE, '--apply', '--watch', '--cgroup', parent.path], { ...env, TUNER_TEST_NUDGE_PAUSE_MS: '5000' });
    await until(() => journalEntries(journal)[0]?.written.includes('25600'), 30_000, 'the first nudge to be journaled');
    run.proc.kill('SIGKILL');
    await run.proc.catch(() => undefined);
    expect(hog.read('cpu.shares')).toBe('262144');
    const r = await tuner(['revert', '--json'], { env });
    expect(JSON.parse(String(r.stdout)).journals[0].outcomes[0]).toMatchObject({ result: 'unchanged', found: '262144' });
    expect(journal.files()).toEqual([]);
  });

  it('the next `tuner run --apply` restores what a killed run left', async () => {
    const { parent, hog, journal, env } = await noisyNeighbor();
    const run = startTuner(['run', RECIPE, '--apply', '--watch', '--cgroup', parent.path], env);
    await run.waitFor((e) => e.type === 'decision' && e.kind === 'step');
    expect(hog.read('cpu.shares')).toBe('25600');
    run.proc.kill('SIGKILL');
    await run.proc.catch(() => undefined);
    const r = await tuner(['run', RECIPE, '--apply', '--cgroup', parent.path, '--duration', '1s', '--json'], { env });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const events = String(r.stdout)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({
      type: 'recovered',
      knob: path.join(hog.path, 'cpu.shares'),
      found: '25600',
      original: '262144',
      result: 'restored',
    });
    expect(hog.read('cpu.shares')).toBe('262144');
    expect(journal.files()).toEqual([]);
    // The dead run's pins were removed at start (afterEach checks none is left).
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s reverts every change and exits 0', async (sig) => {
    const { parent, hog, journal, env } = await noisyNeighbor();
    const run = startTuner(['run', RECIPE, '--apply', '--watch', '--cgroup', parent.path], env);
    await run.waitFor((e) => e.type === 'decision' && e.kind === 'step');
    expect(hog.read('cpu.shares')).not.toBe('262144');
    run.proc.kill(sig);
    const r = await run.proc;
    expect(r.exitCode, run.stderr()).toBe(0);
    expect(hog.read('cpu.shares')).toBe('262144');
    expect(run.events.at(-1)).toMatchObject({ type: 'summary', recipes: [{ reverted: [{ result: 'restored', to: '262144' }] }] });
    expect(journal.files()).toEqual([]);
  });

  it('yields to an administrator who changes a knob it set, and does not restore over them', async () => {
    const { parent, hog, env } = await noisyNeighbor();
    const run = startTuner(['run', RECIPE, '--apply', '--watch', '--cgroup', parent.path], env);
    await run.waitFor((e) => e.type === 'decision' && e.kind === 'step');
    hog.write('cpu.shares', '5000'); // the administrator
    const y = await run.waitFor((e) => e.type === 'yield');
    expect(y).toMatchObject({ knob: path.join(hog.path, 'cpu.shares'), expected: '25600', found: '5000' });
    run.proc.kill('SIGTERM');
    await run.proc;
    expect(hog.read('cpu.shares')).toBe('5000');
  });
});
