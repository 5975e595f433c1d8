/**
 * What the workload runs next to: nothing, the empty floor program,
 * `tuner watch sched` (with the default object, or its compat variant
 * forced by TUNER_BPF_VARIANT), or the bpftrace yardstick. Each attaches, says when
 * it is ready (steady state: first record or first histogram printed),
 * names its programs (for bpf_stats), and detaches without leaving pins
 * or processes.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { onCleanup } from './cleanup.js';
import { BENCH_SRC, CLI, PIN_ROOT, RUNQLAT_BT } from './paths.js';
import { progIdsOfPinnedLinks, progIdsOfProcess } from './bpfstats.js';
import { lines, run, start, stderrOf, stop, type Child } from './spawn.js';

export type ConfigName = 'none' | 'empty' | 'tuner' | 'tuner-compat' | 'bpftrace';

export interface Attached {
  name: ConfigName;
  /** The agent's process (tuner's node, bpftrace), if any. */
  pid?: number;
  /** Milliseconds from launch to ready. */
  readyMs: number;
  progIds(): Promise<number[]>;
  detach(): Promise<void>;
}

let seq = 0;

/**
 * A fresh pin directory of the benchmark, `/sys/fs/bpf/tuner-bench-<pid>-<tag>-<n>`,
 * removed at cleanup if still there. tuner needs its pin root directly on
 * the bpffs mount, and removes it itself when it detaches.
 */
export function pinDir(tag: string): string {
  const dir = `${PIN_ROOT}-${tag}-${seq++}`;
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Wait for the first stdout line accepted by `ready`; reject if the child ends first or the time is up. */
async function waitReady(child: Child, what: string, ready: (line: string) => boolean, timeoutMs = 20_000): Promise<void> {
  const err = stderrOf(child);
  let seen = false;
  const outcome = await Promise.race([
    lines(child, (l) => (seen = ready(l))).then(() => (seen ? 'ready' : 'ended')),
    new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref()),
  ]);
  if (outcome !== 'ready') {
    await stop(child, 'SIGKILL');
    throw new Error(
      `${what} ${outcome === 'timeout' ? `not ready within ${timeoutMs} ms` : 'ended before it was ready'}: ${err().trim().slice(0, 800)}`,
    );
  }
}

export async function attach(name: ConfigName): Promise<Attached> {
  const t0 = performance.now();
  switch (name) {
    case 'none':
      return { name, readyMs: 0, progIds: async () => [], detach: async () => {} };
    case 'empty': {
      const dir = pinDir('empty');
      mkdirSync(dir);
      const obj = path.join(BENCH_SRC, 'bpf', 'empty.bpf.o');
      await run('bpftool', ['prog', 'loadall', obj, dir, 'autoattach']);
      const readyMs = performance.now() - t0;
      return {
        name,
        readyMs,
        progIds: () => progIdsOfPinnedLinks(dir),
        detach: async () => rmSync(dir, { recursive: true, force: true }),
      };
    }
    case 'tuner':
    case 'tuner-compat': {
      const dir = pinDir(name);
      const child = start('node', [CLI, 'watch', 'sched', '--json', '--interval', '1s'], {
        TUNER_PIN_ROOT: dir,
        TUNER_BPF_VARIANT: name === 'tuner' ? 'default' : 'compat',
      });
      await waitReady(child, 'tuner watch sched', (l) => l.startsWith('{'));
      const readyMs = performance.now() - t0;
      return {
        name,
        pid: child.pid,
        readyMs,
        progIds: () => progIdsOfPinnedLinks(dir),
        detach: async () => {
          await stop(child, 'SIGINT');
          if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    case 'bpftrace': {
      const child = start('bpftrace', ['-f', 'json', RUNQLAT_BT]);
      await waitReady(child, 'bpftrace probes/runqlat.bt', (l) => /"type":\s*"(hist|map)"/.test(l));
      const readyMs = performance.now() - t0;
      return {
        name,
        pid: child.pid,
        readyMs,
        progIds: async () => progIdsOfProcess(child.pid!),
        detach: () => stop(child, 'SIGINT'),
      };
    }
  }
}
