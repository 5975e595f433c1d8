/**
 * The effect suite's scenarios: workloads in cgroups the suite creates, the
 * shipped recipe that should help, the scope it runs with, the settings of
 * the knob's bounded range the oracle sweeps, and the objective as the
 * workload itself measures it. `alone` builds the scene without the
 * interference (the progress the victim would make undisturbed), so lost
 * progress and recovery can be stated.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { onCleanup } from '../lib/cleanup.js';
import { CACHE } from '../lib/paths.js';
import { BLKIO_MOUNT, latency, makeCgroup, rate, startWork, threads, V2, type Cgroup, type Work } from './work.js';

export interface Scene {
  work: Record<string, Work>;
  cgroups: Record<string, Cgroup>;
  /** Extra facts a scenario keeps (the loop device). */
  facts: Record<string, string>;
  teardown(): Promise<void>;
}

export interface Setting {
  label: string;
  apply(s: Scene): void;
}

export interface Measure {
  /** The scenario's objective. */
  value: number;
  extras: Record<string, number>;
  /** The setting satisfies the recipe's constraints (the oracle only picks those). */
  ok: boolean;
}

export interface WindowFacts {
  from: number;
  to: number;
  /** Host CPU "some" pressure over the window, % of the time. */
  psiSomePct: number;
}

export interface Scenario {
  name: string;
  recipe: string;
  /** The signal `tuner watch` records for the learner's replays (default sched). */
  watch?: string;
  objective: { name: string; unit: string; goal: 'higher' | 'lower' };
  /** Why it cannot run here, or undefined. */
  skip?(): string | undefined;
  setup(bin: string, alone: boolean): Promise<Scene>;
  scope(s: Scene): string[];
  settings: Setting[];
  /** The knob setting the scene starts at (the misconfiguration), named like a setting. */
  initial: string;
  /**
   * The learner's target is a cgroup of the scene: a `warm` run can start from the model an earlier
   * run of the same recipe saved for the same role (the suite's cgroups get fresh names every run).
   */
  warm?: boolean;
  measure(s: Scene, w: WindowFacts): Measure;
}

async function scene(parts: {
  work: Record<string, Work>;
  cgroups: Record<string, Cgroup>;
  removers: Array<() => void>;
  facts?: Record<string, string>;
  after?: () => void;
}): Promise<Scene> {
  return {
    work: parts.work,
    cgroups: parts.cgroups,
    facts: parts.facts ?? {},
    async teardown() {
      for (const w of Object.values(parts.work)) await w.stop();
      for (const r of parts.removers) r();
      parts.after?.();
    },
  };
}

const SHARES = [16384, 4096, 1024, 256];
/**
 * The hog's weight as the host's cgroups spell it: cpu.shares on v1, cpu.weight on v2, where the default
 * 1024 shares is weight 100 (the kernel's own mapping of the two), so 16384 shares is weight 1600.
 */
const HOG_KNOB = V2 ? 'cpu.weight' : 'cpu.shares';
const hogValue = (shares: number): number => (V2 ? Math.round((shares * 100) / 1024) : shares);
const hogLabel = (shares: number): string => `hog ${HOG_KNOB} ${hogValue(shares)}`;
const sharesSettings = (): Setting[] =>
  SHARES.map((s) => ({ label: hogLabel(s), apply: (sc: Scene) => sc.cgroups.hog!.write(HOG_KNOB, String(hogValue(s))) }));

/** A parent with a hog (4 CPU burners, cpu.shares 16384: weight 1600) and a victim (the default weight) running `victim`. */
async function neighbour(bin: string, alone: boolean, victim: string[]): Promise<Scene> {
  const { cg: parent, remove } = makeCgroup();
  const hog = parent.child('hog');
  const vic = parent.child('victim');
  hog.write(HOG_KNOB, String(hogValue(16384)));
  const work: Record<string, Work> = {};
  try {
    if (!alone) {
      work.hog = await startWork(bin, ['burn', '4']);
      hog.add(work.hog.pid);
    }
    work.victim = await startWork(bin, victim);
    vic.add(work.victim.pid);
  } catch (err) {
    for (const w of Object.values(work)) await w.stop();
    remove();
    throw err;
  }
  return scene({ work, cgroups: { parent, hog, victim: vic }, removers: [remove] });
}

export const misweighted: Scenario = {
  name: 'misweighted-neighbor',
  recipe: 'noisy-neighbor.yaml',
  objective: { name: 'victim periods done', unit: '1/s', goal: 'higher' },
  setup: (bin, alone) => neighbour(bin, alone, ['duty', '40']),
  scope: (s) => ['--cgroup', s.cgroups.parent!.path],
  settings: sharesSettings(),
  initial: hogLabel(16384),
  warm: true,
  measure: (s, w) => ({
    value: rate(s.work.victim!, w.from, w.to),
    extras: s.work.hog ? { hog_loops_per_s: rate(s.work.hog, w.from, w.to) } : ({} as Record<string, number>),
    ok: true,
  }),
};

export const requestLoop: Scenario = {
  name: 'request-latency',
  recipe: 'noisy-neighbor.yaml',
  objective: { name: 'request p99', unit: 'µs', goal: 'lower' },
  setup: (bin, alone) => neighbour(bin, alone, ['rpc', '500']),
  scope: (s) => ['--cgroup', s.cgroups.parent!.path],
  settings: sharesSettings(),
  initial: hogLabel(16384),
  warm: true,
  measure: (s, w) => ({
    value: latency(s.work.victim!, w.from, w.to, 0.99),
    extras: {
      p50_us: latency(s.work.victim!, w.from, w.to, 0.5),
      requests_per_s: rate(s.work.victim!, w.from, w.to),
      ...(s.work.hog ? { hog_loops_per_s: rate(s.work.hog, w.from, w.to) } : {}),
    },
    ok: true,
  }),
};

const affinity = (tid: number, cpus: string): void => void execFileSync('taskset', ['-p', '-c', cpus, String(tid)], { stdio: 'ignore' });
const workers = (w: Work): number[] => threads(w.pid).filter((t) => t !== w.pid);
const stacked: Setting = { label: 'threads stacked on CPU 0', apply: (s) => workers(s.work.hot!).forEach((t) => affinity(t, '0')) };
const spread: Setting = { label: 'one thread per CPU', apply: (s) => workers(s.work.hot!).forEach((t, i) => affinity(t, String(i % 2))) };

export const hotThreads: Scenario = {
  name: 'hot-threads',
  recipe: 'spread-hot-threads.yaml',
  objective: { name: 'loops of both threads', unit: '1/s', goal: 'higher' },
  async setup(bin, alone) {
    const { cg, remove } = makeCgroup();
    const work: Record<string, Work> = {};
    try {
      work.hot = await startWork(bin, ['hot', '2']);
      cg.add(work.hot.pid);
      // The threads pin themselves to CPU 0 as they start.
      for (let i = 0; i < 50 && workers(work.hot).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      if (alone) spread.apply({ work, cgroups: {}, facts: {}, teardown: async () => {} });
    } catch (err) {
      for (const w of Object.values(work)) await w.stop();
      remove();
      throw err;
    }
    return scene({ work, cgroups: { hot: cg }, removers: [remove] });
  },
  scope: (s) => ['--pid', String(s.work.hot!.pid)],
  settings: [stacked, spread],
  initial: stacked.label,
  measure: (s, w) => ({ value: rate(s.work.hot!, w.from, w.to), extras: {}, ok: true }),
};

// The bounded range the recipe walks here: unlimited, then its factor 0.8 from the one CPU the pool gets next to
// the neighbour, down to its bound of 0.5 CPU.
const QUOTAS = [-1, 0.8, 0.64, 0.5];
const ITEM_US = 2000;

export const pressure: Scenario = {
  name: 'pressure-backoff',
  recipe: 'psi-backoff.yaml',
  watch: 'all',
  // What backing off buys is the neighbour's progress: two threads that each want half a CPU every 10 ms, periods
  // met on time (a soft real-time service beside a batch pool of equal weight, which leaves it one CPU of the two);
  // host CPU pressure and the neighbour's run-queue wait (the recipe's trigger and objective) are kept as extras.
  objective: { name: 'neighbour periods on time', unit: '1/s', goal: 'higher' },
  async setup(bin, alone) {
    const { cg: parent, remove } = makeCgroup();
    const batch = parent.child('batch');
    const vic = parent.child('victim');
    const work: Record<string, Work> = {};
    try {
      if (!alone) {
        work.batch = await startWork(bin, ['pool', '4', String(ITEM_US)]);
        batch.add(work.batch.pid);
      }
      work.victim = await startWork(bin, ['duty', '50', '2']);
      vic.add(work.victim.pid);
    } catch (err) {
      for (const w of Object.values(work)) await w.stop();
      remove();
      throw err;
    }
    return scene({ work, cgroups: { parent, batch, victim: vic }, removers: [remove] });
  },
  scope: (s) => ['--cgroup', s.cgroups.batch!.path],
  settings: QUOTAS.map((q) => ({
    label: q < 0 ? 'batch quota unlimited' : `batch quota ${q} CPUs`,
    apply: (s: Scene) =>
      V2
        ? s.cgroups.batch!.write('cpu.max', `${q < 0 ? 'max' : Math.round(q * 100_000)} 100000`)
        : s.cgroups.batch!.write('cpu.cfs_quota_us', String(q < 0 ? -1 : Math.round(q * 100_000))),
  })),
  initial: 'batch quota unlimited',
  measure(s, w) {
    const items = s.work.batch ? rate(s.work.batch, w.from, w.to) : 0;
    // Each item is ITEM_US of CPU: the batch's share of the 2 CPUs.
    const share = (items * ITEM_US) / 1e6 / 2;
    return {
      value: rate(s.work.victim!, w.from, w.to),
      extras: { host_cpu_some_pct: w.psiSomePct, batch_items_per_s: items, batch_machine_share: share },
      ok: share >= 0.2,
    };
  },
};

// The bounded range from the small starting size to the recipe's 4 MiB, every other doubling.
const RA = [16, 64, 256, 1024, 4096];
const IMAGE_MIB = 512;
/** Reads a second the reader's cgroup may send to the device (blkio.throttle.read_iops_device). */
const READ_IOPS = 400;

/**
 * The disk image behind the loop device: written once per suite run (real
 * blocks, not a sparse file, whose holes read without I/O) on the checkout's
 * file system, and removed at exit.
 */
let image: string | undefined;
function diskImage(): string {
  if (image !== undefined) return image;
  mkdirSync(CACHE, { recursive: true });
  const dir = mkdtempSync(path.join(CACHE, 'effect-disk-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'disk.img');
  const fd = openSync(file, 'w');
  try {
    const chunk = Buffer.alloc(1 << 20, 0x5a);
    for (let i = 0; i < IMAGE_MIB; i++) writeSync(fd, chunk);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  image = file;
  return file;
}

export const readahead: Scenario = {
  name: 'sequential-reads',
  recipe: 'readahead-sequential.yaml',
  watch: 'io',
  objective: { name: 'sequential read throughput', unit: 'MiB/s', goal: 'higher' },
  skip: () => (V2 ? 'the read cap is written as cgroup v1 blkio.throttle.read_iops_device; this host is pure cgroup v2' : undefined),
  async setup(bin, alone) {
    // A loop device in direct-I/O mode over a file on disk: every read the device's readahead issues goes to the
    // disk (no page cache of the file behind it). The reader's cgroup may issue READ_IOPS reads a second to it, as
    // a cloud volume's provisioned IOPS allow: then the readahead size decides how many bytes each of those
    // requests brings, as on such a volume. (Without the cap, this host's disk answers every request from its own
    // cache in a few µs and 16 KB read as fast as 4 MB; over tmpfs 470-870 MiB/s whatever the setting.) The
    // misconfiguration is a read_ahead_kb of 16; alone, the device keeps the kernel's default.
    const file = diskImage();
    const dev = execFileSync('losetup', ['--direct-io=on', '--find', '--show', file], { encoding: 'utf8' }).trim();
    const detach = onCleanup(() => execFileSync('losetup', ['-d', dev]));
    const name = path.basename(dev);
    if (readFileSync(`/sys/block/${name}/loop/dio`, 'utf8').trim() !== '1') {
      detach();
      throw new Error(`${dev}: the loop device did not take direct I/O over ${file} (its file system may not support it)`);
    }
    if (!alone) writeFileSync(`/sys/block/${name}/queue/read_ahead_kb`, '16');
    const majMin = readFileSync(`/sys/block/${name}/dev`, 'utf8').trim();
    const { cg, remove } = makeCgroup();
    const io = makeCgroup(BLKIO_MOUNT);
    const work: Record<string, Work> = {};
    try {
      io.cg.write('blkio.throttle.read_iops_device', `${majMin} ${READ_IOPS}`);
      work.reader = await startWork(bin, ['seqread', dev, '4096']);
      cg.add(work.reader.pid);
      io.cg.add(work.reader.pid);
    } catch (err) {
      io.remove();
      remove();
      detach();
      throw err;
    }
    return scene({ work, cgroups: { reader: cg }, removers: [io.remove, remove, detach], facts: { dev: name } });
  },
  scope: () => [],
  settings: RA.map((kb) => ({
    label: `read_ahead_kb ${kb}`,
    apply: (s: Scene) => writeFileSync(`/sys/block/${s.facts.dev}/queue/read_ahead_kb`, String(kb)),
  })),
  initial: 'read_ahead_kb 16',
  measure: (s, w) => ({ value: rate(s.work.reader!, w.from, w.to) / 1024, extras: {}, ok: true }),
};

export const remoteNuma: Scenario = {
  name: 'remote-numa',
  recipe: 'numa-locality.yaml',
  objective: { name: 'loops with remote memory', unit: '1/s', goal: 'higher' },
  skip() {
    const nodes = existsSync('/sys/devices/system/node') ? readdirSync('/sys/devices/system/node').filter((d) => /^node\d+$/.test(d)) : [];
    // The two-node guests of the VM harness do not help: qemu's NUMA nodes are a topology only (every guest
    // node is the same host memory, with the same latency), so remote memory costs nothing there to win back.
    return nodes.length < 2
      ? `this host has ${nodes.length} NUMA node${nodes.length === 1 ? '' : 's'}; remote memory needs two, with a real latency between them (emulated nodes have none)`
      : 'not built: a remote-memory workload for hosts with two real nodes';
  },
  setup: () => Promise.reject(new Error('skipped')),
  scope: () => [],
  settings: [],
  initial: '',
  measure: () => ({ value: NaN, extras: {}, ok: false }),
};

export const SCENARIOS: Scenario[] = [misweighted, requestLoop, hotThreads, pressure, readahead, remoteNuma];
