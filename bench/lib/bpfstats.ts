/**
 * In-kernel cost of BPF programs: kernel.bpf_stats_enabled makes the kernel
 * time every program run (run_cnt, run_time_ns per program, read with
 * `bpftool prog show`). The setting is restored to its previous value however
 * the benchmark ends.
 */
import { readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { onCleanup } from './cleanup.js';
import { run, runLoose } from './spawn.js';

const SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';

/** Turn bpf_stats on; the returned function (also run at any exit) puts the previous value back. */
export function enableBpfStats(): () => void {
  const previous = readFileSync(SYSCTL, 'utf8').trim();
  const restore = onCleanup(() => writeFileSync(SYSCTL, previous));
  writeFileSync(SYSCTL, '1');
  return restore;
}

export function bpfStatsEnabled(): boolean {
  return readFileSync(SYSCTL, 'utf8').trim() === '1';
}

export interface ProgStat {
  id: number;
  name: string;
  type: string;
  runCnt: number;
  runTimeNs: number;
}

/** run_cnt and run_time_ns of the given programs now (one bpftool call). */
export async function progStats(ids: readonly number[]): Promise<Map<number, ProgStat>> {
  const all = JSON.parse(await run('bpftool', ['-j', 'prog', 'show'])) as Array<Record<string, unknown>>;
  const want = new Set(ids);
  const out = new Map<number, ProgStat>();
  for (const p of all) {
    const id = Number(p.id);
    if (!want.has(id)) continue;
    out.set(id, {
      id,
      name: String(p.name ?? ''),
      type: String(p.type ?? ''),
      runCnt: Number(p.run_cnt ?? 0),
      runTimeNs: Number(p.run_time_ns ?? 0),
    });
  }
  return out;
}

/** Program ids behind every link pinned under dir (autoattach pins one link per program; map pins are skipped). */
export async function progIdsOfPinnedLinks(dir: string): Promise<number[]> {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(dir);
  const ids: number[] = [];
  for (const f of files) {
    // bpftool 7.5 exits with 255 even when it shows the link: judge by the output.
    const { stdout } = await runLoose('bpftool', ['-j', 'link', 'show', 'pinned', f]);
    try {
      const link = JSON.parse(stdout) as { prog_id?: number };
      if (typeof link.prog_id === 'number') ids.push(link.prog_id);
    } catch {
      /* not JSON: nothing to take */
    }
  }
  return ids;
}

/** Program ids a process holds open (its bpf-prog and bpf_link file descriptors), read from /proc/PID/fdinfo. */
export function progIdsOfProcess(pid: number): number[] {
  const ids = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (!/^anon_inode:bpf[-_](prog|link)/.test(target)) continue;
    try {
      const m = /^prog_id:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.add(Number(m[1]));
    } catch {
      /* closed meanwhile */
    }
  }
  return [...ids];
}
