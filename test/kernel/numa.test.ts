/**
 * numa_rebalance on a host with two NUMA nodes (the VM kernel matrix boots one; a single-node host
 * skips this file, and TUNER_REQUIRE_NUMA=1 turns that skip into a failure): a process running on
 * node 0 whose memory sits on node 1 (numactl --cpunodebind=0 --membind=1), a recipe that moves it
 * to node 0; its pages move (numa_maps before and after), its own memory walk rate is measured
 * before and after, and after a kill -9 of the tuner `tuner revert` puts the pages back on node 1.
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseNumaMaps } from '../../src/signals/numa/procfs.js';
import { readTopology } from '../../src/topology/topology.js';
import { tuner } from '../helpers/cli.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';
import { journalDir, startTuner, stopTuners, until } from '../helpers/tuner-run.js';
import { start, type Running } from '../helpers/workloads.js';

const nodes = readTopology().nodes.filter((n) => n.cpus.length > 0);
const twoNodes = !skipKernel && nodes.length >= 2;
if (process.env.TUNER_REQUIRE_NUMA === '1' && !twoNodes) {
  throw new Error(`TUNER_REQUIRE_NUMA=1 but this host has ${nodes.length} NUMA node(s) with CPUs`);
}

const running: Running[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  // A test that failed half-way leaves its tuner running: end it (it reverts and unpins) before looking for leftovers.
  await stopTuners();
  for (const r of running.splice(0)) await r.stop();
  for (const c of cleanups.splice(0)) c();
  expect(leftoverPins()).toEqual([]);
});

const pagesOn = (pid: number) => parseNumaMaps(readFileSync(`/proc/${pid}/numa_maps`, 'utf8'));
const share = (pages: Map<number, number>, node: number) => {
  const total = [...pages.values()].reduce((a, b) => a + b, 0);
  return total ? (pages.get(node) ?? 0) / total : 0;
};

/** The median of the next `n` rates the walker prints. */
async function medianRate(w: Running, n: number): Promise<number> {
  const from = w.output.length;
  await until(() => w.output.length >= from + n, 30_000, `${n} rate lines`);
  const rates = w.output
    .slice(from, from + n)
    .map((l) => Number(/^rate (\d+)/.exec(l)?.[1]))
    .sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}

describe.skipIf(!twoNodes)('numa_rebalance on two nodes', () => {
  it('moves the pages of a process running on node 0 from node 1 to node 0, and the revert puts them back', async () => {
    const walker = await start('memwalk', [128], { numa: ['--cpunodebind=0', '--membind=1'] });
    running.push(walker);
    const before = pagesOn(walker.pid);
    expect(share(before, 1)).toBeGreaterThan(0.9);
    const rateRemote = await medianRate(walker, 5);

    // The shipped recipe moves threads to their memory; this copy names node 0, so the memory moves to the threads.
    const dir = mkdtempSync(path.join(tmpdir(), 'tuner-numa-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const copy = path.join(dir, 'numa.yaml');
    const text = readFileSync(new URL('../../recipes/numa-locality.yaml', import.meta.url), 'utf8')
      .replace('interval: 2s', 'interval: 1s')
      .replace('    for: 3', '    for: 2')
      .replace('    target: remote\n', '    target: remote\n    node: 0\n');
    expect(text).toContain('node: 0');
    writeFileSync(copy, text, { mode: 0o600 });
    const journal = journalDir();
    cleanups.push(() => journal.remove());
    const run = startTuner(['run', copy, '--apply', '--pid', String(walker.pid), '--watch'], { TUNER_JOURNAL_DIR: journal.dir });
    const step = await run.waitFor(
      (e) => e.type === 'decision' && e.kind === 'step' && e.knob === `NUMA nodes of the pages of pid ${walker.pid}`,
      60_000,
    );
    expect(step).toMatchObject({ action: 'numa_rebalance', new: '0', applied: true });
    expect(step.old).toBe('1'); // the node holding its pages (a few shared library pages on node 0 do not count)
    const moved = await until(
      () => {
        const p = pagesOn(walker.pid);
        return share(p, 0) > 0.9 ? p : undefined;
      },
      30_000,
      'the pages on node 0',
    );
    // kill -9 leaves the move in force (journaled): the walker's rate on local memory is measured
    // with no tuner running, as the remote one was; then `tuner revert` must put the pages back.
    run.proc.kill('SIGKILL');
    await run.proc.catch(() => undefined);
    const rateLocal = await medianRate(walker, 5);
    expect(share(pagesOn(walker.pid), 0)).toBeGreaterThan(0.9);
    const r = await tuner(['revert', '--json'], { env: { TUNER_JOURNAL_DIR: journal.dir } });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const back = pagesOn(walker.pid);
    const rateRemoteAgain = await medianRate(walker, 5);
    console.log(
      `numa_rebalance: pages of the walker (per node) before ${JSON.stringify(Object.fromEntries(before))}, after the move ${JSON.stringify(Object.fromEntries(moved))}, ` +
        `after tuner revert ${JSON.stringify(Object.fromEntries(back))}; walk rate (median of 5 half-second rates): remote ${rateRemote}/s, local ${rateLocal}/s, ` +
        `remote again ${rateRemoteAgain}/s; local / mean remote ${(rateLocal / ((rateRemote + rateRemoteAgain) / 2)).toFixed(2)}`,
    );
    expect(share(back, 1)).toBeGreaterThan(0.9);
    expect(journal.files()).toEqual([]);
  });
});
