/**
 * Soak and load (run only when named: `npm run bench -- --only soak
 * [--duration 1h]`, never in npm test).
 *
 * 1. `tuner run recipes/*.yaml --apply --watch` on a test cgroup tree, every
 *    shipped recipe at once, for --duration (default 1 h), under a load that
 *    changes every `phase` (default 3 min; a fifth of the duration when that
 *    is shorter): CPU burners in a "hog" cgroup next to a duty-cycle
 *    "victim", then a mutex fight (futex waits), then a context-switch storm
 *    (perf bench sched pipe), then near-idle, round and round. Every 10 s the
 *    tuner process tree is sampled: resident memory (VmRSS), CPU time, open
 *    file descriptors and pinned BPF objects. Growth compares the median of
 *    the first 10 samples after the warm-up (a fifth of the run, at least
 *    60 s) with the median of the last 10: within 5% is the target.
 * 2. The engine at scale: every shipped recipe's engine fed windows of
 *    1,000 cgroups and 10,000 processes (records as `watch --json` prints
 *    them, on a simulated host: no knob is written), timed per window.
 *
 * --load-cpu PCT caps the load at PCT% of one CPU, so a soak can run beside
 * other measurements without disturbing them. Not with a cfs quota: a task
 * its quota throttles stays runnable in the kernel's pressure accounting,
 * and a throttled soak load kept host CPU PSI "some" at about 80% (1% with
 * the load stopped), which every PSI reading on the machine then saw.
 * Capped, the duty-cycle workloads run at their share, and the others (CPU
 * burner, the mutex fight, the pipe storm: about one CPU each while they
 * run) run in bursts: all their threads are stopped (SIGSTOP, not runnable)
 * but for PCT/2 ms of every 100 ms. Half of the cap for the hog cgroup, half
 * for the victim.
 *
 * Everything it creates (cgroups under tuner-soak-<pid>, a journal
 * directory, workloads) is removed at the end, on error and on Ctrl-C.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup } from '../lib/cleanup.js';
import { CLI, DIST, ROOT } from '../lib/paths.js';
import { processTree, sampleTree } from '../lib/proc.js';
import { start, stderrOf, stop, type Child } from '../lib/spawn.js';
import { median, round } from '../lib/stats.js';

export interface SoakSample {
  t: number;
  rssMb: number;
  cpuS: number;
  fds: number;
  pins: number;
  load: string;
}

export interface SoakResult {
  seconds: number;
  phaseSeconds: number;
  warmupSeconds: number;
  samples: SoakSample[];
  /** Medians of the first 10 samples after warm-up and of the last 10, and the growth between them in percent. */
  growth: Record<'rssMb' | 'cpuPct' | 'fds' | 'pins', { start: number; end: number; pct: number }>;
  exitCode: number | undefined;
  decisions: number;
  restored: boolean;
  /** The cap on the load in % of one CPU, when one was set. */
  loadCpuPct?: number;
  engine: { cgroups: number; processes: number; recipes: number; windows: number; msPerWindow: { median: number; max: number } };
}

const CPU = '/sys/fs/cgroup/cpu';
const SAMPLE_S = 10;

function fdCount(pids: readonly number[]): number {
  let n = 0;
  for (const p of pids) {
    try {
      n += readdirSync(`/proc/${p}/fd`).length;
    } catch {
      /* exited */
    }
  }
  return n;
}

function pinCount(pinRoot: string): number {
  let n = 0;
  const walk = (d: string): void => {
    let es;
    try {
      es = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of es) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else n++;
    }
  };
  walk(pinRoot);
  return n;
}

function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(path.join(dir, e.name));
  try {
    for (const pid of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        writeFileSync(path.join(CPU, 'cgroup.procs'), pid);
      } catch {
        /* exited */
      }
    }
  } catch {
    /* gone */
  }
  rmdirSync(dir);
}

/**
 * The load of phase k: the workloads it starts in the hog and victim cgroups.
 * Each joins its cgroup before it execs, so no thread or child runs outside
 * it, and the PID stopped is the workload's own. `paced` are the ones a
 * capped soak runs in bursts (see --load-cpu); with a cap, duty-cycle
 * workloads ask for their share of it and the burners are one thread.
 */
function loadPhase(
  k: number,
  hog: string,
  victim: string,
  bin: (n: string) => string,
  capPct: number | undefined,
): { name: string; children: Child[]; paced: Child[] } {
  const inCg = (cg: string, cmd: string, args: readonly string[], stdin?: string): Child =>
    start('sh', [
      '-c',
      `echo $$ > "$0/cgroup.procs" && exec "$@"${stdin === undefined ? '' : ` <<'EOF'\n${stdin}\nEOF`}`,
      cg,
      cmd,
      ...args,
    ]);
  const duty = (pct: number): string => String(capPct === undefined ? pct : Math.max(1, Math.round(Math.min(pct, capPct / 2))));
  switch (k % 4) {
    case 0: {
      const burn = inCg(hog, bin('spin'), [capPct === undefined ? '3' : '1', '0']);
      return { name: 'burners+victim', children: [burn, inCg(victim, bin('duty'), [duty(40), '10', '0'])], paced: [burn] };
    }
    case 1: {
      // lockwait starts on a "go" line on its stdin.
      const lw = inCg(hog, bin('lockwait'), ['4', '100000', '200'], 'go');
      return { name: 'mutex', children: [lw], paced: [lw] };
    }
    case 2: {
      // Threaded (-T): one process, so a kill ends both ends of the pipe (a forked receiver outlives its sender and blocks).
      const pipe = inCg(hog, 'perf', ['bench', 'sched', 'pipe', '-T', '-l', '100000000']);
      return { name: 'pipe storm', children: [pipe], paced: [pipe] };
    }
    default:
      return { name: 'idle', children: [inCg(victim, bin('duty'), [duty(10), '10', '0'])], paced: [] };
  }
}

/** Every PCT/2 ms of 100 the paced workloads run, the rest of the time they are stopped; stop() leaves them running. */
function pacer(pct: number): { set(children: Child[]): void; stop(): void } {
  let paced: Child[] = [];
  const signal = (sig: NodeJS.Signals): void => {
    for (const c of paced) {
      if (c.pid === undefined || c.exitCode !== null) continue;
      try {
        process.kill(c.pid, sig);
      } catch {
        /* exited */
      }
    }
  };
  let off: NodeJS.Timeout | undefined;
  const tick = setInterval(() => {
    signal('SIGCONT');
    off = setTimeout(() => signal('SIGSTOP'), Math.max(1, Math.min(99, pct / 2)));
  }, 100);
  return {
    set(children) {
      paced = children;
    },
    stop() {
      clearInterval(tick);
      clearTimeout(off);
      signal('SIGCONT');
      paced = [];
    },
  };
}

async function soakRun(o: { seconds: number; loadCpuPct?: number; log: (s: string) => void }): Promise<Omit<SoakResult, 'engine'>> {
  const phaseSeconds = Math.min(180, Math.max(20, Math.round(o.seconds / 5)));
  const warmupSeconds = Math.max(60, Math.round(o.seconds / 5));
  const bin = (n: string): string => path.join(ROOT, '.cache', 'workloads', n);
  const { execFileSync } = await import('node:child_process');
  for (const w of ['spin', 'duty', 'lockwait']) {
    mkdirSync(path.dirname(bin(w)), { recursive: true });
    // Built aside and renamed into place: another soak may be running the previous binary (cc over it: ETXTBSY).
    const tmp = `${bin(w)}.${process.pid}`;
    execFileSync('cc', ['-O2', '-pthread', '-Wall', '-o', tmp, path.join(ROOT, 'test', 'workloads', `${w}.c`)]);
    renameSync(tmp, bin(w));
  }
  const parent = path.join(CPU, `tuner-soak-${process.pid}`);
  const hog = path.join(parent, 'hog');
  const victim = path.join(parent, 'victim');
  mkdirSync(hog, { recursive: true });
  mkdirSync(victim);
  const pace = o.loadCpuPct !== undefined ? pacer(o.loadCpuPct) : undefined;
  writeFileSync(path.join(hog, 'cpu.shares'), '262144');
  const journal = mkdtempSync(path.join(tmpdir(), 'tuner-soak-journal-'));
  // Under TUNER_PIN_ROOT when set (a bpffs of its own, for a soak beside kernel tests that check the default root).
  const pinRoot = path.join(process.env.TUNER_PIN_ROOT ?? '/sys/fs/bpf', `tuner-soak-${process.pid}`);
  let load: Child[] = [];
  const endLoad = async (): Promise<void> => {
    pace?.set([]);
    // Anything a workload forked is in its cgroup (and was started by this benchmark): end it too, or its
    // open stdout would keep the workload's exit from being seen.
    for (const cg of [hog, victim]) {
      for (const pid of readFileSync(path.join(cg, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* exited */
        }
      }
    }
    for (const c of load) await stop(c, 'SIGKILL', 2000);
    load = [];
  };
  const removeAll = onCleanup(() => {
    pace?.stop();
    for (const c of load) if (c.pid !== undefined && c.exitCode === null) c.kill('SIGKILL');
    try {
      removeCgroup(parent);
    } catch {
      /* tasks still leaving */
    }
    rmSync(journal, { recursive: true, force: true });
    // A tuner killed by the cleanup leaves its pins: remove them (the programs detach with them).
    rmSync(pinRoot, { recursive: true, force: true });
  });
  const recipes = readdirSync(path.join(ROOT, 'recipes'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => path.join(ROOT, 'recipes', f));
  const tuner = start('node', [CLI, 'run', ...recipes, '--apply', '--watch', '--cgroup', parent, '--json'], {
    TUNER_JOURNAL_DIR: journal,
    TUNER_PIN_ROOT: pinRoot,
  });
  const err = stderrOf(tuner);
  let decisions = 0;
  let out = '';
  tuner.stdout!.setEncoding('utf8');
  tuner.stdout!.on('data', (c: string) => {
    out += c;
    let nl;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line.includes('"type":"decision"')) decisions++;
    }
  });
  const samples: SoakSample[] = [];
  const t0 = performance.now();
  let phase = -1;
  let phaseName = '';
  try {
    for (let k = 0; ; k++) {
      const due = t0 + k * SAMPLE_S * 1000;
      if (due - t0 > o.seconds * 1000) break;
      await sleep(Math.max(0, due - performance.now()));
      if (tuner.exitCode !== null) throw new Error(`tuner exited early (code ${tuner.exitCode}): ${err().slice(-500)}`);
      const p = Math.floor((performance.now() - t0) / 1000 / phaseSeconds);
      if (p !== phase) {
        await endLoad();
        phase = p;
        const next = loadPhase(p, hog, victim, bin, o.loadCpuPct);
        load = next.children;
        pace?.set(next.paced);
        phaseName = next.name;
        o.log(`soak: ${round((performance.now() - t0) / 1000, 0)} s: load ${phaseName}`);
      }
      const tree = processTree(tuner.pid!);
      const s = sampleTree(tuner.pid!);
      samples.push({
        t: round((performance.now() - t0) / 1000, 1),
        rssMb: round(s.rssKb / 1024, 1),
        cpuS: round(s.cpuS, 2),
        fds: fdCount(tree),
        pins: pinCount(pinRoot),
        load: phaseName,
      });
      if (k % 6 === 0) o.log(`soak: ${JSON.stringify(samples.at(-1))}`);
    }
  } finally {
    pace?.stop();
    await endLoad();
    await stop(tuner, 'SIGINT', 20_000);
  }
  const restored =
    readFileSync(path.join(hog, 'cpu.shares'), 'utf8').trim() === '262144' && readdirSync(journal).length === 0 && pinCount(pinRoot) === 0;
  removeAll();
  removeCgroup(parent);
  rmSync(journal, { recursive: true, force: true });
  const after = samples.filter((s) => s.t >= warmupSeconds);
  const first = after.slice(0, 10);
  const last = after.slice(-10);
  const cpuPct = (xs: SoakSample[]): number => {
    const rates: number[] = [];
    for (let i = 1; i < xs.length; i++) rates.push((100 * (xs[i]!.cpuS - xs[i - 1]!.cpuS)) / (xs[i]!.t - xs[i - 1]!.t));
    return median(rates);
  };
  const g = (a: number, b: number) => ({
    start: round(a, 2),
    end: round(b, 2),
    pct: round(a === 0 ? (b === 0 ? 0 : 100) : (100 * (b - a)) / a, 1),
  });
  return {
    seconds: round((performance.now() - t0) / 1000, 0),
    phaseSeconds,
    warmupSeconds,
    samples,
    growth: {
      rssMb: g(median(first.map((s) => s.rssMb)), median(last.map((s) => s.rssMb))),
      cpuPct: g(cpuPct(first), cpuPct(last)),
      fds: g(median(first.map((s) => s.fds)), median(last.map((s) => s.fds))),
      pins: g(median(first.map((s) => s.pins)), median(last.map((s) => s.pins))),
    },
    exitCode: tuner.exitCode ?? undefined,
    decisions,
    restored,
    ...(o.loadCpuPct !== undefined ? { loadCpuPct: o.loadCpuPct } : {}),
  };
}

/** Every shipped recipe's engine on windows of `cgroups` cgroups and `procs` processes, on a simulated host. */
export async function engineScale(o: { cgroups: number; procs: number; windows: number }): Promise<SoakResult['engine']> {
  const imp = async <T>(p: string): Promise<T> => (await import(pathToFileURL(path.join(DIST, p)).href)) as T;
  const { loadRecipes } = await imp<typeof import('../../dist/recipes/load.js')>('recipes/load.js');
  const { makeEngines, applicable } = await imp<typeof import('../../dist/engine/setup.js')>('engine/setup.js');
  const { SimHost } = await imp<typeof import('../../dist/host/host.js')>('host/host.js');
  const { SimIo } = await imp<typeof import('../../dist/knobs/sim-io.js')>('knobs/sim-io.js');
  const { ScopeGuard } = await imp<typeof import('../../dist/scope/guard.js')>('scope/guard.js');
  const files = readdirSync(path.join(ROOT, 'recipes'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => path.join(ROOT, 'recipes', f));
  const { recipes: loaded } = loadRecipes(files);
  const host = SimHost.withCpus(64);
  const { recipes } = applicable(loaded, host, new Date().toISOString());
  const io = new SimIo(host.topology().online);
  const scope = new ScopeGuard({ cgroup: '/p' }, host);
  const engines = makeEngines(recipes, { host, io, scope, mode: 'replay', claims: new Map() });
  const times: number[] = [];
  let seed = 1;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let w = 0; w < o.windows; w++) {
    const ts = Date.parse('2026-01-01T00:00:00Z') + w * 1000;
    const iso = new Date(ts).toISOString();
    const cgroups = Array.from({ length: o.cgroups }, (_, i) => {
      const on = Math.round(rnd() * 2e8 * (i === 0 ? 10 : 1));
      const wait = Math.round(rnd() * 1e8);
      return {
        cgroup: `/p/c${i}`,
        oncpu_ns: on,
        runq_wait_ns: wait,
        wait_share: wait / (wait + on + 1),
        switches: 100,
        runq: { count: 100, p99_us: rnd() * 5000 },
      };
    });
    const procs = Array.from({ length: o.procs }, (_, i) => ({
      pid: 10_000 + i,
      comm: 'w',
      cgroup: `/p/c${i % o.cgroups}`,
      threads: 1,
      oncpu_ns: Math.round(rnd() * 2e7),
      runq_wait_ns: Math.round(rnd() * 1e7),
      switches: 10,
      voluntary: 5,
      involuntary: 5,
      runq: { count: 10, p50_us: 10, p99_us: rnd() * 5000, max_us: 6000 },
    }));
    const sched = {
      signal: 'sched',
      ts: iso,
      interval_ms: 1000,
      switches: 1e5,
      voluntary: 5e4,
      involuntary: 5e4,
      runq: { count: 1e5, wait_ns: 1e9, p50_us: 5, p90_us: 100, p99_us: 3000, max_us: 8000 },
      cpus: Array.from({ length: 64 }, (_, c) => ({ cpu: c, runq_len_avg: rnd() * 3, busy_pct: 90, switches: 1000 })),
      procs,
      cgroups,
    };
    const psi = {
      signal: 'psi',
      ts: iso,
      interval_ms: 1000,
      cpu: { some_avg10: 60, some_avg60: 50, some_pct: 60 },
      memory: { some_avg10: 0, full_avg10: 0 },
      io: { some_avg10: 0, full_avg10: 0 },
      cgroups: cgroups.map((c) => ({ cgroup: c.cgroup, cpu: { some_avg10: 50 } })),
    };
    const io2 = { signal: 'io', ts: iso, interval_ms: 1000, ios: 0, devices: [], procs: [] };
    const window = { ts, records: { sched, psi, io: io2 } as never };
    for (const p of procs.slice(0, 100)) host.learnCgroup(p.pid, p.cgroup);
    const t = performance.now();
    for (const e of engines) await e.tick(window);
    times.push(performance.now() - t);
  }
  const steady = times.slice(2);
  return {
    cgroups: o.cgroups,
    processes: o.procs,
    recipes: engines.length,
    windows: o.windows,
    msPerWindow: { median: round(median(steady), 1), max: round(Math.max(...steady), 1) },
  };
}

export async function soak(o: { seconds: number; loadCpuPct?: number; log: (s: string) => void }): Promise<SoakResult> {
  o.log('soak: the engine at scale (1,000 cgroups, 10,000 processes)');
  const engine = await engineScale({ cgroups: 1_000, procs: 10_000, windows: 12 });
  o.log(`soak: engine ${JSON.stringify(engine)}`);
  o.log(`soak: run --apply --watch with every shipped recipe for ${o.seconds} s`);
  const run = await soakRun(o);
  return { ...run, engine };
}

/** Lines for the report. */
export function renderSoak(r: SoakResult): string {
  const g = r.growth;
  const first = r.samples[0];
  const last = r.samples.at(-1);
  return [
    `soak: ${r.seconds} s of run --apply --watch with every shipped recipe (load changed every ${r.phaseSeconds} s${r.loadCpuPct !== undefined ? `, capped at ${r.loadCpuPct}% of one CPU` : ''}; warm-up ${r.warmupSeconds} s), ${r.samples.length} samples, ${r.decisions} decisions, exit ${r.exitCode}, everything restored: ${r.restored}`,
    `  at start: RSS ${first?.rssMb} MB, CPU ${first?.cpuS} s, ${first?.fds} fds, ${first?.pins} pins; at the end: RSS ${last?.rssMb} MB, CPU ${last?.cpuS} s, ${last?.fds} fds, ${last?.pins} pins`,
    `  growth after warm-up (median of first 10 vs last 10 samples): RSS ${g.rssMb.start} -> ${g.rssMb.end} MB (${g.rssMb.pct}%), CPU ${g.cpuPct.start} -> ${g.cpuPct.end}% of a CPU (${g.cpuPct.pct}%), fds ${g.fds.start} -> ${g.fds.end} (${g.fds.pct}%), pins ${g.pins.start} -> ${g.pins.end} (${g.pins.pct}%)`,
    `  engine: ${r.engine.recipes} recipes on ${r.engine.cgroups} cgroups and ${r.engine.processes} processes: ${r.engine.msPerWindow.median} ms per window (median of ${r.engine.windows - 2}, max ${r.engine.msPerWindow.max})`,
  ].join('\n');
}
