/**
 * `npm run bench`: the overhead of always-on observation, measured in one
 * run on this machine, next to bpftrace and to an empty program. Prints a
 * table, writes bench/results.json and bench/results.md.
 *
 *   node dist/bench/main.js [--only kernel,slowdown,agent,startup,scale,scale-idle,power,power-sim,soak] [--quick] [--duration 1h] [--load-cpu PCT]
 *
 * --quick shortens every phase (for trying the benchmark out; its figures
 * are noisier and the agent windows are 10 s, not 60 s).
 * Run it alone on the machine: everything else that runs is in the figures.
 * `power-sim` (compare's power study by simulation, no root needed) and
 * `power` (compare on recordings of real workloads) run only when named;
 * they write bench/power-results.md and bench/power-real-results.md.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { agentCost } from './phases/agent.js';
import { kernelCost } from './phases/kernel.js';
import { scale } from './phases/scale.js';
import { slowdown } from './phases/slowdown.js';
import { startup } from './phases/startup.js';
import { powerPhase, POWER_PHASES, type PowerPhase } from './phases/power-run.js';
import { renderSoak, soak } from './phases/soak.js';
import { buildBenchObjects, workload } from './lib/build.js';
import { runCleanups } from './lib/cleanup.js';
import { BENCH_SRC, CLI } from './lib/paths.js';
import { machine } from './lib/proc.js';
import { renderMarkdown, renderText } from './lib/report.js';
import { run } from './lib/spawn.js';
import { evaluate, type Results } from './lib/targets.js';

const PHASES = ['kernel', 'slowdown', 'agent', 'startup', 'scale', 'scale-idle'] as const;
type Phase = (typeof PHASES)[number];

/** Run only when named: `soak` lasts --duration (default 1h). */
type Named = PowerPhase | 'soak';

function parseArgs(argv: string[]): { only: Set<Phase | Named>; quick: boolean; durationS: number; loadCpuPct?: number } {
  let only = new Set<Phase | Named>(PHASES);
  let quick = false;
  let durationS = 3600;
  let loadCpuPct: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--duration') {
      const m = /^(\d+)(s|m|h)$/.exec(argv[++i] ?? '');
      if (!m) usage(`--duration: expected a duration like 15m or 1h, got ${JSON.stringify(argv[i] ?? '')}`);
      durationS = Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
    } else if (a === '--load-cpu') {
      const v = Number(argv[++i]);
      if (!(v >= 1 && v <= 100 * 1024))
        usage(`--load-cpu: expected a percentage of one CPU (1 or more), got ${JSON.stringify(argv[i] ?? '')}`);
      loadCpuPct = v;
    } else if (a === '--only') {
      const list = (argv[++i] ?? '').split(',').filter(Boolean);
      for (const p of list) if (![...PHASES, ...POWER_PHASES, 'soak'].includes(p as Phase)) usage(`--only: unknown phase "${p}"`);
      only = new Set(list as Array<Phase | Named>);
    } else usage(`unknown argument "${a}"`);
  }
  return { only, quick, durationS, ...(loadCpuPct !== undefined ? { loadCpuPct } : {}) };
}

function usage(msg: string): never {
  process.stderr.write(
    `bench: ${msg}\nusage: node dist/bench/main.js [--only ${[...PHASES, ...POWER_PHASES, 'soak'].join(',')}] [--quick] [--duration 1h] [--load-cpu PCT]\n`,
  );
  process.exit(2);
}

async function preflight(): Promise<string[]> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark loads BPF programs: run it as root');
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: npm run build');
  const versions: string[] = [];
  versions.push((await run('bpftool', ['version'])).split('\n')[0]!.trim());
  versions.push((await run('bpftrace', ['--version'])).trim());
  versions.push((await run('perf', ['version'])).trim());
  versions.push(`node ${process.version}`);
  await buildBenchObjects();
  await workload('wakers');
  return versions;
}

async function main(): Promise<void> {
  const { only, quick, durationS, loadCpuPct } = parseArgs(process.argv.slice(2));
  const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);
  if (only.has('soak')) {
    const r = await soak({ seconds: durationS, ...(loadCpuPct !== undefined ? { loadCpuPct } : {}), log });
    process.stdout.write(renderSoak(r) + '\n');
    writeFileSync(
      path.join(BENCH_SRC, 'soak-results.json'),
      JSON.stringify({ started: new Date().toISOString(), machine: machine(), ...r }, null, 1) + '\n',
    );
    log('wrote bench/soak-results.json');
  }
  if (only.has('power') || only.has('power-sim')) await powerPhase({ sim: only.has('power-sim'), real: only.has('power'), quick, log });
  if (!PHASES.some((p) => only.has(p))) return;
  const versions = await preflight();
  const m = machine();
  const started = new Date();
  const results: Results = {};
  const t0 = performance.now();
  if (only.has('kernel')) results.kernel = await kernelCost({ rounds: quick ? 1 : 3, loops: quick ? 30_000 : 100_000, log });
  if (only.has('slowdown')) results.slowdown = await slowdown({ rounds: quick ? 2 : 15, loops: quick ? 30_000 : 50_000, log });
  if (only.has('agent'))
    results.agent = await agentCost({ seconds: quick ? 10 : 60, viewSeconds: quick ? 5 : 20, daemonSeconds: quick ? 15 : 45, log });
  if (only.has('startup')) results.startup = await startup({ runs: quick ? 2 : 5, log });
  if (only.has('scale') || only.has('scale-idle')) {
    results.scale = await scale({
      sizes: only.has('scale') ? [10, 1_000, 10_000] : [],
      idleSizes: only.has('scale-idle') ? [1_000, 10_000] : [],
      reads: quick ? 2 : 3,
      idleReps: quick ? 1 : 3,
      log,
    });
  }
  const seconds = (performance.now() - t0) / 1000;

  const header = [
    `${started.toISOString()}: Linux ${m.kernel}, ${m.cpus} CPUs (${m.model}); ${versions.join('; ')}`,
    `${quick ? 'QUICK run (shortened phases); ' : ''}phases: ${[...only].join(', ')}; ${seconds.toFixed(0)} s`,
  ].join('\n');
  process.stdout.write(renderText(results, header) + '\n');
  const json = { started: started.toISOString(), machine: m, versions, quick, seconds, targets: evaluate(results), ...results };
  writeFileSync(path.join(BENCH_SRC, 'results.json'), JSON.stringify(json, null, 2) + '\n');
  writeFileSync(path.join(BENCH_SRC, 'results.md'), renderMarkdown(results, header.replace(/\n/g, '  \n')) + '\n');
  log('wrote bench/results.json and bench/results.md');
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
} finally {
  runCleanups();
}
