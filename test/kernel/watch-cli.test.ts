/**
 * `tuner watch sched` end to end through the built CLI: the JSON records,
 * scoping by cgroup, clean exits on SIGINT/SIGTERM, and recovery from kill -9.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { start, type Running } from '../helpers/workloads.js';
import { tuner } from '../helpers/cli.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';
import { leftoverCgroups, makeCgroup, type TestCgroupTree } from '../helpers/cgroups.js';
import { pickCpus } from '../helpers/cpus.js';

const running: Running[] = [];
const cgroups: TestCgroupTree[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  for (const c of cgroups.splice(0)) c.remove();
  expect(leftoverPins()).toEqual([]);
  expect(leftoverCgroups(['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/unified'])).toEqual([]);
});

function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => {
      buf += c;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    stream.on('end', () => reject(new Error(`stream ended before a line: ${buf}`)));
  });
}

describe.skipIf(skipKernel)('tuner watch sched (CLI)', () => {
  it('prints one NDJSON record per interval with the documented fields', async () => {
    // Three spinners on one CPU the test picks: two of them always wait, on a host of any size.
    const spin = await start('spin', [3, 0], { cpus: pickCpus(1) });
    running.push(spin);
    const r = await tuner(['watch', 'sched', '--json', '--count', '2', '--interval', '500ms', '--pid', String(spin.pid)]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const lines = String(r.stdout).trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      const rec = JSON.parse(line);
      expect(rec.signal).toBe('sched');
      expect(Date.parse(rec.ts)).not.toBeNaN();
      expect(rec.interval_ms).toBeGreaterThan(400);
      expect(rec.interval_ms).toBeLessThan(700);
      for (const k of ['switches', 'voluntary', 'involuntary']) expect(typeof rec[k]).toBe('number');
      for (const k of ['count', 'wait_ns', 'p50_us', 'p90_us', 'p99_us', 'max_us']) expect(rec.runq).toHaveProperty(k);
      expect(rec.cpus.length).toBeGreaterThan(0);
      for (const c of rec.cpus) for (const k of ['cpu', 'runq_len_avg', 'busy_pct']) expect(c).toHaveProperty(k);
      expect(rec.procs).toHaveLength(1);
      const p = rec.procs[0];
      expect(p.pid).toBe(spin.pid);
      expect(p.comm).toBe('spin');
      for (const k of ['cgroup', 'oncpu_ns', 'runq_wait_ns', 'switches']) expect(p).toHaveProperty(k);
      expect(p.runq.p99_us).toBeGreaterThan(0);
      // Two of three threads wait at any time: two intervals of wait (more when other work shares the CPU); half that at least.
      expect(p.runq_wait_ns).toBeGreaterThan(0.5 * rec.interval_ms * 1e6 * 2);
    }
  });

  it('scopes to a cgroup subtree (--cgroup, relative or absolute)', async () => {
    const cg = makeCgroup('/sys/fs/cgroup/cpu');
    cgroups.push(cg);
    const inside = await start('spin', [1, 0]);
    const outside = await start('spin', [1, 0]);
    running.push(inside, outside);
    cg.add(inside.pid);
    const rel = cg.path.replace('/sys/fs/cgroup/cpu/', '');
    for (const arg of [rel, cg.path]) {
      const r = await tuner(['watch', 'sched', '--json', '--count', '1', '--interval', '500ms', '--cgroup', arg]);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const rec = JSON.parse(String(r.stdout));
      const pids = rec.procs.map((p: { pid: number }) => p.pid);
      expect(pids).toContain(inside.pid);
      expect(pids).not.toContain(outside.pid);
      expect(rec.procs.find((p: { pid: number }) => p.pid === inside.pid).cgroup).toBe('/' + rel);
    }
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('on %s detaches, removes every pin and exits 0', async (sig) => {
    const child = tuner(['watch', 'sched', '--json', '--interval', '200ms']);
    const line = await firstLine(child.stdout!);
    expect(JSON.parse(line).signal).toBe('sched');
    expect(leftoverPins().length).toBeGreaterThan(0);
    child.kill(sig);
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(leftoverPins()).toEqual([]);
  });

  /*
   * `watch sched` starts its bpftool before the CLI has parsed the flags
   * (src/prestart.ts): a run refused on its flags, or stopped while that
   * bpftool still loads, must end it before removing the pins, or a pin made
   * after the removal would outlive the run. Checked again after a pause, in
   * case anything of it still runs.
   */
  it('a watch refused on its flags while its bpftool loads leaves nothing behind', async () => {
    const r = await tuner(['watch', 'sched', '--json', '--interval', 'nonsense']);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(/--interval.*nonsense/);
    expect(leftoverPins()).toEqual([]);
    await new Promise((res) => setTimeout(res, 500));
    expect(leftoverPins()).toEqual([]);
  });

  it.each([30, 120, 250])('a watch stopped %i ms after launch, while it loads, leaves nothing behind', async (ms) => {
    const child = tuner(['watch', 'sched', '--json', '--interval', '200ms']);
    await new Promise((res) => setTimeout(res, ms));
    child.kill('SIGTERM');
    const r = await child;
    // Killed outright when it comes before node has installed any handler (nothing was made yet).
    expect([0, 143, 'SIGTERM'], String(r.stderr)).toContain(r.exitCode ?? r.signal);
    expect(leftoverPins()).toEqual([]);
    await new Promise((res) => setTimeout(res, 500));
    expect(leftoverPins()).toEqual([]);
  });

  it('after kill -9, `tuner cleanup` removes the pins the dead run left', async () => {
    const child = tuner(['watch', 'sched', '--json', '--interval', '200ms']);
    await firstLine(child.stdout!);
    const pins = leftoverPins();
    expect(pins.sort()).toEqual([
      expect.stringMatching(new RegExp(`^${child.pid}-\\d+-sched$`)),
      expect.stringMatching(new RegExp(`^${child.pid}-\\d+-session\\d+$`)),
    ]);
    child.kill('SIGKILL');
    await child;
    expect(leftoverPins()).toEqual(pins); // still attached: nothing ran at exit
    const r = await tuner(['cleanup', '--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(String(r.stdout));
    expect(out.removed.map((x: { pid: number }) => x.pid)).toEqual([child.pid, child.pid]);
    expect(leftoverPins()).toEqual([]);
    expect(existsSync('/sys/fs/bpf/tuner')).toBe(false);
  });

  it('removes stale pins automatically at the next start', async () => {
    const child = tuner(['watch', 'sched', '--json', '--interval', '200ms']);
    await firstLine(child.stdout!);
    child.kill('SIGKILL');
    await child;
    expect(leftoverPins().length).toBeGreaterThan(0);
    const r = await tuner(['watch', 'sched', '--json', '--count', '1', '--interval', '200ms']);
    expect(r.exitCode).toBe(0);
    expect(leftoverPins()).toEqual([]);
  });
});

describe.skipIf(skipKernel)('tuner watch: the other signals (CLI)', () => {
  it('watch all: one record of sched, futex, io and psi per interval, all scoped to the PID', async () => {
    // Holders that sleep in the lock: contention that needs no CPU, the same on a host of any size or load.
    const lw = await start('lockwait', [3, 60, 300, 'sleep']); // until stopped: loading may take long on a busy host
    running.push(lw);
    lw.send('go');
    const r = await tuner(['watch', 'all', '--json', '--count', '2', '--interval', '700ms', '--pid', String(lw.pid)]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const recs = String(r.stdout)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(recs.map((x) => x.signal)).toEqual(['sched', 'futex', 'io', 'psi', 'sched', 'futex', 'io', 'psi']);
    const futex = recs[5];
    for (const k of ['ts', 'interval_ms', 'waits', 'wait_ns']) expect(futex).toHaveProperty(k);
    for (const k of ['p50_us', 'p99_us', 'max_us']) expect(futex.wait).toHaveProperty(k);
    expect(futex.procs.map((p: { pid: number }) => p.pid)).toEqual([lw.pid]);
    expect(futex.waits).toBeGreaterThan(100);
    expect(futex.addrs[0].uaddr).toMatch(/^0x[0-9a-f]+$/);
    expect(futex.addrs[0].waiters).toBeGreaterThanOrEqual(1);
    expect(recs[6].procs.map((p: { pid: number }) => p.pid)).toEqual([lw.pid]);
    for (const k of ['cpu', 'memory', 'io', 'cgroups']) expect(recs[7]).toHaveProperty(k);
    for (const k of ['some_avg10', 'some_total_us']) expect(recs[7].cpu).toHaveProperty(k);
    for (const k of ['some_avg10', 'full_avg10', 'some_total_us', 'full_total_us']) expect(recs[7].memory).toHaveProperty(k);
  });

  it('watch events: run-queue outliers of the PID with the task that ran before, and lost counts', async () => {
    const spin = await start('spin', [3, 0], { cpus: pickCpus(1) }); // queued on one CPU, on any host
    running.push(spin);
    const r = await tuner([
      'watch',
      'events',
      '--json',
      '--count',
      '2',
      '--interval',
      '500ms',
      '--runq-outlier',
      '2ms',
      '--pid',
      String(spin.pid),
    ]);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const recs = String(r.stdout)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(recs).toHaveLength(2);
    const evs = recs.flatMap((x) => x.events);
    expect(recs.every((x) => x.signal === 'events' && typeof x.lost === 'number')).toBe(true);
    expect(evs.length).toBeGreaterThan(0);
    for (const e of evs) {
      expect(e.type).toBe('runq_outlier');
      expect(e.pid).toBe(spin.pid);
      expect(e.value_us).toBeGreaterThanOrEqual(2000);
      expect(e.ran_before).toHaveProperty('comm');
    }
  });

  it('watch io and net print their records', async () => {
    for (const sig of ['io', 'net']) {
      const r = await tuner(['watch', sig, '--json', '--count', '1', '--interval', '300ms']);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const rec = JSON.parse(String(r.stdout));
      expect(rec.signal).toBe(sig);
      expect(rec).toHaveProperty(sig === 'io' ? 'devices' : 'hooks');
    }
  });
});

describe('tuner watch: bad input exits 2, names the flag and value, loads nothing', () => {
  it.each([
    [['watch', 'sched', '--interval', '1'], /--interval: expected a duration like 1s, 500ms or 2m, got "1"/],
    [['watch', 'sched', '--interval', '5ms'], /--interval: expected at least 10ms/],
    [['watch', 'sched', '--count', '0'], /--count: expected a whole number from 1/],
    [['watch', 'sched', '--pid', 'abc'], /--pid: expected a process ID/],
    [['watch', 'sched', '--pid', '4194303'], /--pid 4194303: no such process/],
    [['watch', 'sched', '--cgroup', 'no/such/group'], /--cgroup no\/such\/group: no such cgroup/],
    [['watch', 'sched', '--cgroup', '../../../etc'], /escapes the cgroup root/],
    [['watch', 'sched', '--backend', 'ebpf'], /--backend: expected one of auto, bpf, bpftrace, got "ebpf"/],
    [['watch', 'schedd'], /watch <signal>: expected one of/],
    [['watch', 'sched', '--top', 'many'], /--top: expected a positive whole number/],
    [['watch', 'sched', '--bogus'], /unknown option '--bogus'/],
    [['watch', 'sched', '--pid', '1', '--cgroup', '.'], /cannot be combined/],
    [['watch', 'events', '--runq-outlier', 'soon'], /--runq-outlier: expected a duration/],
  ])('%j', async (args, msg) => {
    const r = await tuner(args);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(msg);
    expect(String(r.stderr)).not.toMatch(/\n\s+at /); // no stack trace
    expect(leftoverPins()).toEqual([]);
  });
});
