/**
 * The shipped recipes replayed against recorded feeds (test/fixtures/replay:
 * sched and psi recorded with `tuner watch ... --json` on this machine; io and
 * numa written by hand in the shape of those records). Replays read nothing
 * from the host, so the decisions and their times are exact.
 */
import { describe, expect, it } from 'vitest';
import { readFeed, replay, type ReplayOptions } from '../../src/commands/replay.js';
import type { DecisionEvent, RunEvent, SummaryEvent } from '../../src/engine/events.js';

const fixture = (name: string): string => new URL(`../fixtures/replay/${name}.ndjson`, import.meta.url).pathname;
const recipe = (name: string): string => new URL(`../../recipes/${name}.yaml`, import.meta.url).pathname;

async function collect(o: Omit<ReplayOptions, 'feed' | 'recipes'> & { name: string }): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for await (const e of replay({ feed: fixture(o.name), recipes: [recipe(o.name)], ...o })) out.push(e);
  return out;
}
const decisions = (evs: RunEvent[]) =>
  evs
    .filter((e): e is DecisionEvent => e.type === 'decision')
    .map((e) => [e.ts.slice(11, 19), e.kind, e.knob, e.old, e.new, e.applied, e.reverted]);
const summaryOf = (evs: RunEvent[]) => evs.at(-1) as SummaryEvent;

describe('replay of the shipped recipes', () => {
  it('noisy-neighbor: lowers the hog a quarter per cooldown while the victim starves (every second window), then restores it at exit', async () => {
    const evs = await collect({
      name: 'noisy-neighbor',
      cgroup: '/tuner-test-rec',
      assume: ['/sys/fs/cgroup/tuner-test-rec/hog/cpu.weight=10000'],
    });
    const hog = '/sys/fs/cgroup/tuner-test-rec/hog/cpu.weight';
    expect(decisions(evs)).toEqual([
      ['13:51:25', 'step', hog, '10000', '2500', false, false],
      ['13:51:27', 'step', hog, '2500', '625', false, false],
      ['13:51:29', 'step', hog, '625', '156', false, false],
      ['13:51:31', 'step', hog, '156', '39', false, false],
      ['13:51:33', 'step', hog, '39', '25', false, false],
      ['13:51:33', 'revert', hog, '25', '10000', false, true],
    ]);
    const first = evs.find((e): e is DecisionEvent => e.type === 'decision')!;
    expect(first.detector).toBe('starved+dominant');
    expect(first.evidence.starved).toMatchObject({
      signal: 'sched.cgroups.wait_share',
      entity: '/tuner-test-rec/victim',
      above: 0.4,
      clear: 0.2,
      windows: 2,
      active: true,
    });
    expect(first.evidence.dominant).toMatchObject({
      signal: 'sched.cgroups.cpu_share',
      entity: '/tuner-test-rec/hog',
      windows: 2,
      active: true,
    });
    expect(first.reason).toMatch(
      /^lower CPU weight 10000 -> 2500 of \/tuner-test-rec\/hog because \/tuner-test-rec\/victim sched\.cgroups\.wait_share 0\.98\d > 0\.4/,
    );
    expect(summaryOf(evs)).toMatchObject({ type: 'summary', mode: 'replay', windows: 10, first_change_ms: 992 });
  });

  it('noisy-neighbor: nothing outside the scope, nothing at the scope itself', async () => {
    expect(
      decisions(
        await collect({ name: 'noisy-neighbor', cgroup: '/elsewhere', assume: ['/sys/fs/cgroup/tuner-test-rec/hog/cpu.weight=10000'] }),
      ),
    ).toEqual([]);
    expect(
      decisions(
        await collect({
          name: 'noisy-neighbor',
          cgroup: '/tuner-test-rec/hog',
          assume: ['/sys/fs/cgroup/tuner-test-rec/hog/cpu.weight=10000'],
        }),
      ),
    ).toEqual([]);
    // At the default weight (100) one step remains before the bound (25).
    const atDefault = decisions(await collect({ name: 'noisy-neighbor', cgroup: '/tuner-test-rec' }));
    expect(atDefault.map((d) => [d[3], d[4]])).toEqual([
      ['100', '25'],
      ['25', '100'],
    ]);
  });

  it('psi-backoff: steps the quota down while others wait, gives it back once they stop (host pressure still high), restores "max" at exit', async () => {
    // The feed: a pool of 4 workers in /batch from :54, next to 2 threads outside it wanting half a CPU each; those
    // stop at :18 (the pool alone keeps host CPU pressure above 90%), the pool at :30. Recorded without changing
    // the quota, so the steps do not lower the others' wait here.
    const q = '/sys/fs/cgroup/batch/cpu.max';
    for (const strategy of ['heuristic', 'learned'] as const) {
      const evs = await collect({ name: 'psi-backoff', cgroup: '/batch', strategy });
      expect(decisions(evs), strategy).toEqual([
        ['17:01:02', 'step', q, 'max 100000', '79485 100000', false, false], // 0.8 x the 0.99 CPUs it used
        ['17:01:06', 'step', q, '79485 100000', '63588 100000', false, false], // a step per 3 s cooldown
        ['17:01:10', 'step', q, '63588 100000', '50870 100000', false, false],
        ['17:01:14', 'step', q, '50870 100000', '50000 100000', false, false], // the bound: half a CPU
        ['17:01:19', 'relax', q, '50000 100000', '62500 100000', false, false], // the others no longer wait
        ['17:01:22', 'relax', q, '62500 100000', '78125 100000', false, false],
        ['17:01:25', 'relax', q, '78125 100000', '97656 100000', false, false],
        ['17:01:28', 'relax', q, '97656 100000', '122070 100000', false, false], // on towards the original: unlimited
        ['17:01:32', 'relax', q, '122070 100000', '152588 100000', false, false],
        ['17:01:33', 'revert', q, '152588 100000', 'max 100000', false, true],
      ]);
      const relax = evs.find((e): e is DecisionEvent => e.type === 'decision' && e.kind === 'relax')!;
      expect(relax.reason).toMatch(/sched\.outside\.runq_len_avg 0 is clear \(< 0\.1\)/);
    }
    const first = (await collect({ name: 'psi-backoff', cgroup: '/batch' })).find((e): e is DecisionEvent => e.type === 'decision')!;
    expect(first.reason).toMatch(/psi\.cpu\.some_avg10 53\.7 > 40, active for 3 windows; sched\.outside\.runq_len_avg 0\.993 > 0\.25/);
  });

  it('psi-backoff: refuses to limit the root cgroup (no scope)', async () => {
    const evs = await collect({ name: 'psi-backoff' });
    expect(decisions(evs)).toEqual([]);
    expect(evs.some((e) => e.type === 'skip' && /never limits the root cgroup/.test(e.reason))).toBe(true);
  });

  it('readahead-sequential: raises loop0 a step per cooldown while its reads are sequential, restores it at the first window its reads turn random; never touches vda', async () => {
    const evs = await collect({ name: 'readahead-sequential' });
    const ra = '/sys/block/loop0/queue/read_ahead_kb';
    expect(decisions(evs)).toEqual([
      ['14:00:05', 'step', ra, '128', '512', false, false],
      ['14:00:07', 'step', ra, '512', '2048', false, false], // a step per 2 s cooldown
      ['14:00:09', 'step', ra, '2048', '4096', false, false], // the bound: 4 MiB, not 8
      ['14:00:16', 'relax', ra, '4096', '128', false, true], // as soon as the reads are no longer sequential
    ]);
    expect(JSON.stringify(evs)).not.toContain('/sys/block/vda');
  });

  it('numa-locality: moves pid 4242 to the node holding its pages (a two-node feed), leaves pid 4300 alone', async () => {
    const evs = await collect({ name: 'numa-locality', pids: [4242, 4300] });
    // Its threads move to node 0; its pages (9000 on node 0, 1000 on node 1) are split, and a split could not be
    // put back as it was (migratepages moves every page of a node), so they stay.
    expect(decisions(evs)).toEqual([
      ['14:00:06', 'step', 'affinity of pid 4242', '0-3', '0-1', false, false],
      ['14:00:24', 'revert', 'affinity of pid 4242', '0-1', '0-3', false, true],
    ]);
  });

  it('spread-hot-threads: spreads a process whose two threads share CPU 0 while CPU 1 idles', async () => {
    const evs = await collect({ name: 'spread-hot-threads', pids: [9189], assume: ['affinity of pid 9189=0'] });
    expect(decisions(evs)).toEqual([
      ['13:51:36', 'step', 'affinity of pid 9189', '0', '0-1', false, false],
      ['13:51:40', 'revert', 'affinity of pid 9189', '0-1', '0', false, true],
    ]);
    // The same feed with another PID scope: nothing.
    expect(decisions(await collect({ name: 'spread-hot-threads', pids: [1234], assume: ['affinity of pid 9189=0'] }))).toEqual([]);
  });

  it('is deterministic: the same feed gives the same events', async () => {
    const a = await collect({ name: 'psi-backoff', cgroup: '/batch' });
    const b = await collect({ name: 'psi-backoff', cgroup: '/batch' });
    const strip = (evs: RunEvent[]) => evs.map((e) => (e.type === 'summary' ? { ...e, ts: '' } : e));
    expect(strip(a)).toEqual(strip(b));
  });
});

describe('feeds', () => {
  it('groups records into windows where a signal repeats, and counts bad lines instead of skipping them silently', () => {
    const text = [
      '{"signal":"sched","ts":"2026-01-01T00:00:01.000Z"}',
      '{"signal":"psi","ts":"2026-01-01T00:00:01.010Z"}',
      'not json',
      '{"signal":"sched","ts":"2026-01-01T00:00:02.000Z"}',
      '{"signal":"bogus","ts":"2026-01-01T00:00:02.000Z"}',
      '{"signal":"psi"}',
      '',
    ].join('\n');
    const f = readFeed(text);
    expect(f.windows.map((w) => [w.ts, Object.keys(w.records)])).toEqual([
      [Date.parse('2026-01-01T00:00:01.010Z'), ['sched', 'psi']],
      [Date.parse('2026-01-01T00:00:02.000Z'), ['sched']],
    ]);
    expect(f.bad).toEqual([
      { line: 3, why: 'not JSON' },
      { line: 5, why: 'no known "signal" ("bogus")' },
      { line: 6, why: 'no ISO "ts"' },
    ]);
  });
});
