/**
 * `tuner agent` on this kernel: a real Prometheus (Debian's package, on
 * loopback) scrapes it while a `tuner watch sched --json` runs over the same
 * window; the series exist, their increase agrees with the records, the
 * per-cgroup limit holds and counts what it drops, a deleted cgroup's series
 * disappear.
 */
import { rmdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { startAgent, startPrometheus, until, type RunningAgent, type RunningPrometheus } from '../helpers/agent.js';
import { leftoverCgroups, makeCgroup, type TestCgroupTree } from '../helpers/cgroups.js';
import { CLI } from '../helpers/cli.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';
import { cleanup as cleanupScene } from '../helpers/noisy-neighbor.js';
import { start, type Running } from '../helpers/workloads.js';
import { pickCpus } from '../helpers/cpus.js';

const CPU = '/sys/fs/cgroup/cpu';

const agents: RunningAgent[] = [];
const proms: RunningPrometheus[] = [];
const work: Running[] = [];
const trees: TestCgroupTree[] = [];

afterEach(async () => {
  for (const p of proms.splice(0)) await p.stop();
  for (const a of agents.splice(0)) await a.stop();
  for (const w of work.splice(0)) await w.stop();
  for (const t of trees.splice(0)) t.remove();
  await cleanupScene();
  expect(leftoverPins()).toEqual([]);
  expect(leftoverCgroups([CPU, '/sys/fs/cgroup/unified'])).toEqual([]);
});

interface WatchRecord {
  ts: string;
  interval_ms: number;
  involuntary: number;
  runq: { count: number; wait_ns: number };
  cgroups: Array<{ oncpu_ns: number }>;
}

describe.skipIf(skipKernel)('tuner agent', () => {
  it('is scraped by Prometheus: series agree with watch --json, the cgroup limit holds, deleted cgroups go', async () => {
    const parent = makeCgroup(CPU);
    trees.push(parent);
    const name = `/${path.basename(parent.path)}`;
    // Four CPU-bound threads in three cgroups on two CPUs: steady on-CPU time and run-queue wait.
    const sizes = { a: 2, b: 1, c: 1 } as const;
    for (const [cg, threads] of Object.entries(sizes)) {
      const w = await start('spin', [threads, 0], { cpus: pickCpus(2) }); // two CPUs on a host of any size
      work.push(w);
      parent.child(cg).add(w.pid);
    }
    const agent = await startAgent('interval: 1s\nsignals: [sched, futex, psi]\n', `  cgroups:\n    paths: [${name}/a]\n    top: 1\n`);
    agents.push(agent);
    const watch = execa('node', [CLI, 'watch', 'sched', '--json', '--interval', '1s'], {
      reject: false,
      stdin: 'ignore',
      buffer: { stdout: false },
    });
    const records: WatchRecord[] = [];
    let buf = '';
    watch.stdout!.setEncoding('utf8');
    watch.stdout!.on('data', (c: string) => {
      buf += c;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        records.push(JSON.parse(buf.slice(0, nl)) as WatchRecord);
        buf = buf.slice(nl + 1);
      }
    });
    const prom = await startPrometheus(`127.0.0.1:${agent.port}`);
    proms.push(prom);
    try {
      await until(
        '40 scrapes',
        async () => {
          const r = await prom.query('count_over_time(tuner_oncpu_seconds_total[2m])');
          return Number(r[0]?.value?.[1] ?? 0) >= 40 ? true : undefined;
        },
        90_000,
        1000,
      );

      // The same window from both: the first and last scrape of the last 35 s, and the records that ended between them.
      const compare = async (
        expr: string,
        fromRecord: (r: WatchRecord) => number,
      ): Promise<{ prom: number; watch: number; ratio: number }> => {
        const [series] = await prom.query(`${expr}[35s]`);
        const v = series!.values!;
        const [t1, v1] = [v[0]![0], Number(v[0]![1])];
        const [t2, v2] = [v[v.length - 1]![0], Number(v[v.length - 1]![1])];
        const inWindow = records.filter((r) => Date.parse(r.ts) / 1000 > t1 && Date.parse(r.ts) / 1000 <= t2);
        const w = inWindow.reduce((s, r) => s + fromRecord(r), 0);
        return { prom: v2 - v1, watch: w, ratio: (v2 - v1) / w };
      };
      const oncpu = await compare('tuner_oncpu_seconds_total', (r) => r.cgroups.reduce((s, c) => s + c.oncpu_ns, 0) / 1e9);
      const delay = await compare('tuner_run_delay_seconds_total', (r) => r.runq.wait_ns / 1e9);
      const waits = await compare('tuner_runqueue_wait_seconds_count', (r) => r.runq.count);
      const switches = await compare('tuner_context_switches_total{kind="involuntary"}', (r) => r.involuntary);
      console.log(
        `agent vs watch over the same window: on-CPU ${JSON.stringify(oncpu)}, run delay ${JSON.stringify(delay)}, run-queue waits ${JSON.stringify(waits)}, switches ${JSON.stringify(switches)}`,
      );
      for (const c of [oncpu, delay, waits, switches]) {
        expect(c.watch).toBeGreaterThan(0);
        expect(c.ratio).toBeGreaterThan(0.9);
        expect(c.ratio).toBeLessThan(1.1);
      }
      expect(oncpu.prom).toBeGreaterThan(30); // two busy CPUs over about 34 s

      // Histograms, counters of the agent's own cost, no pid label anywhere.
      expect((await prom.query('tuner_runqueue_wait_seconds_bucket')).length).toBeGreaterThan(10);
      expect((await prom.query('tuner_futex_wait_seconds_count')).length).toBe(1);
      expect(Number((await prom.query('tuner_agent_resident_memory_bytes'))[0]!.value![1])).toBeGreaterThan(10e6);
      expect(Number((await prom.query('tuner_agent_cpu_seconds_total'))[0]!.value![1])).toBeGreaterThan(0);
      expect(await prom.query('{__name__=~"tuner_.*", pid!=""}')).toEqual([]);

      // The limit: the configured cgroup plus one more, whatever else is busy; the rest counted.
      const cgSeries = await prom.query('tuner_cgroup_oncpu_seconds_total');
      console.log(
        `cgroup series: ${cgSeries.map((s) => s.metric.cgroup).join(', ')}; dropped: ${(await prom.query('tuner_cgroup_series_dropped_total'))[0]?.value?.[1]}`,
      );
      expect(cgSeries.length).toBe(2);
      expect(cgSeries.map((s) => s.metric.cgroup)).toContain(`${name}/a`);
      expect(Number((await prom.query('tuner_cgroup_series_dropped_total'))[0]!.value![1])).toBeGreaterThan(0);

      // promtool on what the agent serves.
      const exposition = (await agent.get('/metrics')).body;
      const check = await execa('promtool', ['check', 'metrics'], { input: exposition, reject: false });
      expect(check.stdout + check.stderr).toBe('');
      expect(check.exitCode).toBe(0);

      // Delete the configured cgroup: its series go from the exposition, and so from Prometheus.
      await work[0]!.stop();
      rmdirSync(path.join(parent.path, 'a'));
      const gone = Date.now();
      await until(
        'the deleted cgroup to leave the exposition',
        async () => ((await agent.get('/metrics')).body.includes(`cgroup="${name}/a"`) ? undefined : true),
        10_000,
      );
      await until(
        'the deleted cgroup to leave Prometheus',
        async () => ((await prom.query(`tuner_cgroup_oncpu_seconds_total{cgroup="${name}/a"}`)).length === 0 ? true : undefined),
        15_000,
      );
      console.log(`deleted cgroup's series gone from Prometheus ${Date.now() - gone} ms after rmdir`);
    } finally {
      watch.kill('SIGTERM');
      await watch;
    }
  }, 240_000);
});
