/**
 * Fake sysfs and procfs trees in a temporary directory, for topology, NUMA
 * and action tests that must not depend on (or touch) the host.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatCpuList } from '../../src/topology/cpulist.js';

export interface FakeTree {
  root: string;
  sys: string;
  proc: string;
  write(rel: string, text: string): void;
  /** A process with threads: `stat` fields after comm are synthesized (state, start time, last CPU). */
  addProcess(
    pid: number,
    opts: {
      comm?: string;
      threads?: Array<{ tid: number; state?: string; cpu?: number; start?: number; allowed?: string }>;
      numaMaps?: string;
      cgroup?: string;
    },
  ): void;
  remove(): void;
}

function statLine(pid: number, comm: string, state: string, start: number, cpu: number): string {
  // Fields 3..: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itreal starttime(22) ... processor(39)
  const f: (string | number)[] = [state, 1, pid, pid, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 1, 0, start];
  while (f.length < 36) f.push(0);
  f.push(cpu);
  return `${pid} (${comm}) ${f.join(' ')} 0 0\n`;
}

export function fakeTree(opts: { cpus: number; nodes?: number[][]; siblings?: number[][] }): FakeTree {
  const root = mkdtempSync(path.join(tmpdir(), 'tuner-fake-'));
  const sys = path.join(root, 'sys');
  const proc = path.join(root, 'proc');
  const write = (rel: string, text: string): void => {
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
  };
  const all = Array.from({ length: opts.cpus }, (_, i) => i);
  write('sys/devices/system/cpu/online', formatCpuList(all) + '\n');
  for (const c of all) {
    const sib = opts.siblings?.find((s) => s.includes(c)) ?? [c];
    write(`sys/devices/system/cpu/cpu${c}/topology/thread_siblings_list`, formatCpuList(sib) + '\n');
  }
  const nodes = opts.nodes ?? [all];
  write('sys/devices/system/node/online', formatCpuList(nodes.map((_, i) => i)) + '\n');
  nodes.forEach((cpus, i) => {
    write(`sys/devices/system/node/node${i}/cpulist`, formatCpuList(cpus) + '\n');
    write(
      `sys/devices/system/node/node${i}/numastat`,
      'numa_hit 0\nnuma_miss 0\nnuma_foreign 0\ninterleave_hit 0\nlocal_node 0\nother_node 0\n',
    );
  });
  mkdirSync(proc, { recursive: true });
  return {
    root,
    sys,
    proc,
    write,
    addProcess(pid, p) {
      const comm = p.comm ?? 'proc';
      write(`proc/${pid}/comm`, comm + '\n');
      write(`proc/${pid}/numa_maps`, p.numaMaps ?? '');
      write(`proc/${pid}/cgroup`, `4:cpu,cpuacct:${p.cgroup ?? '/'}\n0::${p.cgroup ?? '/'}\n`);
      for (const t of p.threads ?? [{ tid: pid }]) {
        write(`proc/${pid}/task/${t.tid}/stat`, statLine(t.tid, comm, t.state ?? 'R', t.start ?? 1000 + t.tid, t.cpu ?? 0));
        write(`proc/${pid}/task/${t.tid}/status`, `Name:\t${comm}\nCpus_allowed_list:\t${t.allowed ?? formatCpuList(all)}\n`);
      }
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
