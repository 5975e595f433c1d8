/**
 * The sched object's dump iterator against bpftool's JSON of the same maps:
 * after a flush, its binary records and `bpftool -j map dump` agree field by
 * field, each entry is written once, and a process whose threads all exited
 * is written too; an entry is written again only when it changed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { loadInstance } from '../../src/loader/instance.js';
import { onlineCpus, openSession, possibleCpus } from '../../src/loader/session.js';
import { decodeCgroups, decodeCpus, decodeProcs, openSchedBpf } from '../../src/signals/sched/bpf.js';
import { decodeDump } from '../../src/signals/sched/dump.js';
import { parseJson } from '../../src/tools/json.js';
import { runTool } from '../../src/tools/run.js';
import { leftoverPins, skipKernel } from '../helpers/kernel.js';
import { start, type Running } from '../helpers/workloads.js';

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  expect(leftoverPins()).toEqual([]);
});

/** Keys of the records in one read, in order (struct sched_rec: kind, size, key). */
function recordKeys(buf: Buffer): string[] {
  const keys: string[] = [];
  for (let at = 0; at < buf.length; at += 16 + buf.readUInt32LE(at + 4))
    keys.push(`${buf.readUInt32LE(at)}:${buf.readBigUInt64LE(at + 8)}`);
  return keys;
}

describe.skipIf(skipKernel)('sched dump iterator', () => {
  it('writes every entry once, as bpftool reads it, exited processes included', async () => {
    const live = await start('spin', [3, 0]);
    const gone = await start('spin', [2, 0]);
    running.push(live, gone);
    const session = await openSession({ pids: [live.pid, gone.pid] });
    try {
      const inst = await loadInstance('sched', { reuse: session.maps });
      try {
        const flush = (): Promise<string> => readFile(inst.link('flush'), 'utf8');
        const json = async (map: string): Promise<unknown> =>
          parseJson(await runTool('bpftool', ['-j', 'map', 'dump', 'pinned', inst.map(map)]));
        await flush(); // adopts the tasks in scope
        await sleep(300);
        await flush();
        await readFile(inst.link('dump'));
        await gone.stop(); // SIGKILL: the exit hook flushes its threads and marks it exited
        await sleep(200);
        await flush();
        const raw = await readFile(inst.link('dump'));
        const bin = decodeDump(raw);
        // Entries change only at a flush or a thread exit: bpftool sees what the dump wrote.
        const procs = decodeProcs(await json('sched_procs'));
        const cgroups = decodeCgroups(await json('sched_cgroups'));
        const cpus = decodeCpus(await json('sched_cpus'));

        const keys = recordKeys(raw);
        expect(new Set(keys).size).toBe(keys.length);
        const sortByKey = <T extends { key: string }>(xs: T[]): T[] => [...xs].sort((a, b) => a.key.localeCompare(b.key));
        expect(sortByKey(bin.procs)).toEqual(sortByKey(procs));
        expect(sortByKey(bin.cgroups)).toEqual(sortByKey(cgroups));
        // Every CPU's counters, once: switches as the map holds them (copied at the flush); waits only
        // grow between the dump and bpftool's read (a task that changes CPU moves its share at once).
        expect(cpus).toHaveLength(possibleCpus());
        expect(bin.cpus.length).toBeGreaterThanOrEqual(onlineCpus());
        const mapped = new Map(cpus.map((c) => [c.cpu, c]));
        for (const c of bin.cpus) {
          expect(c.switches).toBe(mapped.get(c.cpu)!.switches);
          expect(c.waitNs).toBeLessThanOrEqual(mapped.get(c.cpu)!.waitNs);
          expect(c.switches).toBeGreaterThan(0n);
        }
        const byPid = new Map(bin.procs.map((p) => [Number(p.key), p.value]));
        expect(byPid.get(live.pid)).toMatchObject({ comm: 'spin', threads: 3, exited: false });
        expect(byPid.get(gone.pid)).toMatchObject({ comm: 'spin', exited: true });
        expect(byPid.get(live.pid)!.oncpu).toBeGreaterThan(0n);
      } finally {
        inst.unload();
      }
    } finally {
      session.close();
    }
  });

  it('writes an entry again only when it changed since the last dump; bpftool still holds it meanwhile', async () => {
    const live = await start('spin', [1, 0]);
    running.push(live);
    // A process that runs once per line on its stdin, and sleeps otherwise.
    const waiter = execa('sh', ['-c', 'while read x; do :; done'], { stdin: 'pipe', reject: false });
    const waiterPid = waiter.pid!;
    const session = await openSession({ pids: [live.pid, waiterPid] });
    try {
      const inst = await loadInstance('sched', { reuse: session.maps });
      try {
        const flush = (): Promise<string> => readFile(inst.link('flush'), 'utf8');
        const dumped = async (): Promise<Map<number, bigint>> => {
          await flush();
          const procs = decodeDump(await readFile(inst.link('dump'))).procs;
          return new Map(procs.map((p) => [Number(p.key), p.value.nvcsw + p.value.nivcsw]));
        };
        const inMap = async (): Promise<Set<number>> =>
          new Set(
            decodeProcs(parseJson(await runTool('bpftool', ['-j', 'map', 'dump', 'pinned', inst.map('sched_procs')]))).map((p) =>
              Number(p.key),
            ),
          );
        await flush(); // adopts both: from here on, what they do is counted
        waiter.stdin!.write('x\n');
        await sleep(200);
        const first = await dumped();
        expect(first.get(waiterPid)).toBeGreaterThan(0n);
        expect(first.has(live.pid)).toBe(true);
        await sleep(200);
        const idle = await dumped();
        expect(idle.has(live.pid)).toBe(true); // it spins: changed
        expect(idle.has(waiterPid)).toBe(false); // it slept through: not written again
        expect(await inMap()).toContain(waiterPid); // but its entry is still there
        waiter.stdin!.write('x\n');
        await sleep(200);
        const again = await dumped();
        expect(again.get(waiterPid)).toBeGreaterThan(first.get(waiterPid)!);
      } finally {
        inst.unload();
      }
    } finally {
      session.close();
      waiter.stdin!.end();
      await waiter;
    }
  });

  it('reports every process of a mass exit once, over as many reads as its records take', async () => {
    // More processes than one read writes after they exit: the dump writes exited processes in batches
    // of 32 at each live task (about 100 tasks here when they are gone), and a read's last call a few more.
    const n = 8000;
    const reader = await openSchedBpf({});
    try {
      const forks = await start('forks', [n]);
      running.push(forks);
      await sleep(500);
      const children = new Set<number>();
      for (const p of (await reader.read()).procs) if (p.comm === 'forks' && p.pid !== forks.pid) children.add(p.pid);
      expect(children.size).toBe(n);
      await forks.stop(); // SIGKILL: its children die with it (PR_SET_PDEATHSIG)
      // Until they are reaped the dump still visits them as tasks, and each writes its own record.
      for (let i = 0; i < 100 && [...children].some((pid) => existsSync(`/proc/${pid}`)); i++) await sleep(100);
      const exits = new Map<number, number>();
      const perRead: number[] = [];
      for (let i = 0; i < 10 && [...children].some((pid) => !exits.has(pid)); i++) {
        await sleep(300);
        let k = 0;
        for (const p of (await reader.read()).procs)
          if (p.exited && children.has(p.pid)) {
            exits.set(p.pid, (exits.get(p.pid) ?? 0) + 1);
            k++;
          }
        perRead.push(k);
      }
      for (let i = 0; i < 2; i++) {
        await sleep(300);
        for (const p of (await reader.read()).procs) if (children.has(p.pid)) exits.set(p.pid, (exits.get(p.pid) ?? 0) + 1);
      }
      // Every child's exit was reported, each once; where they were more than one read writes (32 at each
      // live task, a few more at the end), that took more than one read.
      expect([...children].filter((pid) => exits.get(pid) !== 1)).toEqual([]);
      const tasks = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3]!.split('/')[1]);
      if (n > 32 * tasks + 64)
        expect(perRead.filter((k) => k > 0).length, `exits reported per read: ${perRead.join(', ')}`).toBeGreaterThan(1);
    } finally {
      reader.close();
    }
  });

  it("loads in the session's own bpftool batch (preload), handed out once, removed with the session", async () => {
    const live = await start('spin', [1, 0]);
    running.push(live);
    const session = await openSession({ pids: [live.pid] }, { preload: 'sched' });
    expect(session.takePreloaded('futex')).toBeUndefined();
    const inst = session.takePreloaded('sched');
    try {
      expect(inst).toBeDefined();
      expect(session.takePreloaded('sched')).toBeUndefined();
      await readFile(inst!.link('flush'), 'utf8'); // adopts the tasks in scope
      await sleep(200);
      // The scope was written before the load: the spinner's two tasks, nothing else.
      expect(await readFile(inst!.link('flush'), 'utf8')).toMatch(/^cycle 1 tasks 2\n$/);
    } finally {
      inst?.unload();
      session.close();
    }
    const dir = inst!.dir;
    expect(existsSync(dir)).toBe(false);
    const untaken = await openSession({ pids: [live.pid] }, { preload: 'sched' });
    untaken.close(); // an object nobody took goes with the session
    expect(leftoverPins()).toEqual([]);
  });
});
