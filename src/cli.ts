#!/usr/bin/env node
/**
 * The tuner command: every command and option, declared in one place. Each
 * action imports its command (src/commands/<name>.ts) lazily, turns the flags
 * into options there, gets data back and prints it with emit() (a view, or
 * JSON with --json). Errors are caught once, at the bottom.
 *
 * For `watch sched` the session's bpftool starts before anything else loads
 * (src/prestart.ts); a session no command took over is removed before exit.
 */
import type { Command as CommandType } from 'commander';
import { prestartsSched } from './prestart.js';
import { boundOldGeneration, runsUntilStopped } from './lifecycle/heap.js';
import type { CommandSpec } from './commands/spec.js';

const prestart = prestartsSched(process.argv.slice(2)) ? await import('./loader/session.js') : undefined;
try {
  prestart?.prestartSession('sched');
} catch {
  // Nothing was started (bpffs missing, say): the command's own start reports why.
}

// Commands that run until stopped keep V8's old generation near their live data (src/lifecycle/heap.ts).
if (runsUntilStopped(process.argv.slice(2))) boundOldGeneration();

const { Command, Option } = await import('commander');
const VERSION = '0.1.0';

const BACKEND_HELP = 'bpf (CO-RE objects via bpftool), bpftrace, or auto';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The command files, imported when their command runs. */
const COMMANDS = {
  watch: () => import('./commands/watch.js'),
  diagnose: () => import('./commands/diagnose.js'),
  doctor: () => import('./commands/doctor.js'),
  cleanup: () => import('./commands/cleanup.js'),
  record: () => import('./commands/record.js'),
  compare: () => import('./commands/compare.js'),
  validate: () => import('./commands/validate.js'),
  run: () => import('./commands/run.js'),
  replay: () => import('./commands/replay.js'),
  revert: () => import('./commands/revert.js'),
  agent: () => import('./commands/agent.js'),
} as const;

/** The action of a command: options from the flags, run, print, exit code. */
function action(name: keyof typeof COMMANDS) {
  return async (...args: unknown[]): Promise<void> => {
    const flags = args.at(-2) as Record<string, unknown>;
    const [{ command }, { execute }] = await Promise.all([COMMANDS[name](), import('./commands/execute.js')]);
    await execute(command as CommandSpec<unknown, unknown>, args.slice(0, -2), flags);
  };
}

/** Commands that observe: live signals, a diagnosis, the host check, leftover pins. */
function declareObserve(cli: CommandType): void {
  cli
    .command('watch')
    .description('watch a signal live, one view or NDJSON record per interval')
    .argument('<signal>', 'sched, futex, io, net, psi, numa, events, or all (sched, futex, io, psi)')
    .option('--interval <duration>', 'interval between records', '1s')
    .option('--count <n>', 'stop after n records')
    .option('--duration <duration>', 'stop after this long')
    .option('--pid <pid>', 'only these processes (repeat, or comma-separated)', collect)
    .option('--cgroup <path>', 'only this cgroup subtree: absolute path, or relative to the cgroup root')
    .option('--top <n>', 'processes to show', '20')
    .option('--json', 'one NDJSON record per interval')
    .addOption(new Option('--backend <backend>', BACKEND_HELP).default('auto'))
    .option('--runq-outlier <duration>', 'events: report run-queue waits at least this long ("off" for none)', '10ms')
    .option('--futex-outlier <duration>', 'events: report futex waits at least this long ("off" for none)', '50ms')
    .option('--io-outlier <duration>', 'events: report block requests at least this slow ("off" for none)', '50ms')
    .action(action('watch'));

  cli
    .command('diagnose')
    .description('measure one process (or cgroup) for a few seconds and name what holds it back, with the evidence')
    .option('--pid <pid>', 'the process to diagnose')
    .option('--cgroup <path>', 'diagnose a whole cgroup subtree instead')
    .option('--duration <duration>', 'how long to measure', '5s')
    .option('--threshold <name=value>', 'override a threshold (repeatable; see docs/diagnose.md)', collect)
    .option('--json', 'print the report as JSON')
    .addOption(new Option('--backend <backend>', 'bpf, bpftrace (sched only), or auto').default('auto'))
    .action(action('diagnose'));

  cli
    .command('doctor')
    .description('check that this host can run tuner, and say how to fix what is missing')
    .option('--json', 'print the report as JSON')
    .option('--no-load', 'skip loading the sched object')
    .action(action('doctor'));

  cli
    .command('cleanup')
    .description('remove BPF pins left behind by tuner processes that were killed')
    .option('--json', 'print what was removed as JSON')
    .action(action('cleanup'));
}

/** Commands for performance regressions in CI: recording profiles and comparing them. */
function declareCi(cli: CommandType): void {
  cli
    .command('record')
    .description('run a workload N times with probes on its process tree; write per-run summaries and the environment to a profile')
    .argument('<command...>', 'the workload and its arguments, after --')
    .requiredOption('-o, --output <file>', 'profile to write (JSON)')
    .option('--signals <list>', 'signals to record, comma-separated (default: every available signal)')
    .option('--repeat <n>', 'measured runs', '10')
    .option('--warmup <n>', 'unmeasured runs before them', '1')
    .option('--timeout <duration>', 'kill a run that takes longer than this (the run fails)')
    .option('--keep-going', 'make every run even after one fails')
    .option('--append', 'add the runs to the profile when it exists (record BASE and NEW in alternation)')
    .option('--alternate <file>', 'also record a second command, given after a lone ::, into this profile, alternating run by run')
    .option('--quiet', "discard the workload's output (by default it goes to stderr)")
    .option('--json', 'print the profile as JSON')
    .passThroughOptions()
    .action(action('record'));

  cli
    .command('compare')
    .description(
      'compare two profiles metric by metric; exit 1 when a gated metric regressed beyond the threshold with significance, 3 when one needs more runs to tell',
    )
    .argument('<base>', 'profile recorded before the change')
    .argument('<new>', 'profile recorded after the change')
    .option('--threshold <percent>', 'smallest change that counts', '10%')
    .option('--alpha <p>', 'false discovery rate over the gated metrics (with nothing changed: the chance of a false alarm)', '0.05')
    .option(
      '--metrics <list>',
      "gate these: names, globs (sched.*, '*' for all) or signals, comma-separated (default: the time totals); the rest are reported",
    )
    .option(
      '--allow-needs-more-runs',
      'a gated metric that needs more runs to tell a worsening passes (exit 0) instead of failing (exit 3)',
    )
    .option('--html <file>', 'also write a self-contained HTML report with charts to this file')
    .addOption(new Option('--format <format>', 'table, json, markdown or junit').default('table'))
    .option('--json', 'same as --format json')
    .option('--markdown', 'same as --format markdown (the verdict table, for a pull-request comment)')
    .option('--strict-env', 'exit 2 instead of warning when the profiles come from different environments')
    .action(action('compare'));
}

/** Commands that run recipes: checking, running, replaying, reverting, and the node agent. */
function declareRecipes(cli: CommandType): void {
  cli
    .command('validate')
    .description('check recipe files without running them (exit 2 when any is bad)')
    .argument('<recipe...>', 'recipe files (YAML)')
    .option('--json', 'print the result as JSON')
    .action(action('validate'));

  cli
    .command('run')
    .description('run recipes on live signals: an audit by default (nothing written); --apply acts, and reverts at exit')
    .argument('<recipe...>', 'recipe files (YAML)')
    .option('--apply', 'change knobs (default: audit, print what would be done)')
    .option('--watch', 'run until Ctrl-C or SIGTERM')
    .option('--duration <duration>', 'stop after this long (default: the recipe duration, 1m)')
    .option('--interval <duration>', 'window length (default: the recipe interval, 1s)')
    .option('--cgroup <path>', 'scope: this cgroup subtree (overrides the recipes)')
    .option('--pid <pid>', 'scope: these processes (repeat, or comma-separated; overrides the recipes)', collect)
    .option('--json', 'one NDJSON event per line')
    .option('--audit-log <file>', 'append one NDJSON record per decision to this file')
    .addOption(new Option('--backend <backend>', BACKEND_HELP).default('auto'))
    .option('--strategy <strategy>', 'heuristic or learned (overrides the recipes)')
    .option('--seed <n>', 'random seed of the learned strategy (default: from the clock, printed)')
    .action(action('run'));

  cli
    .command('replay')
    .description(
      'run recipes against a feed recorded with `tuner watch ... --json`: touches nothing, prints what would have been done and when',
    )
    .argument('<feed>', 'NDJSON feed')
    .argument('<recipe...>', 'recipe files (YAML)')
    .option('--cgroup <name>', 'scope: this cgroup subtree of the recorded host (overrides the recipes)')
    .option('--pid <pid>', 'scope: these processes of the recorded host', collect)
    .option(
      '--assume <knob=value>',
      "a knob's value at the start (default: the kernel default), e.g. /sys/fs/cgroup/app/cpu.weight=10000",
      collect,
    )
    .option('--json', 'one NDJSON event per line')
    .option('--strategy <strategy>', 'heuristic or learned (overrides the recipes)')
    .option('--seed <n>', 'random seed of the learned strategy (default 1)')
    .action(action('replay'));

  cli
    .command('revert')
    .description('after a tuner was killed, put back every knob its journal holds and remove its stale pins')
    .option('--json', 'print what was restored as JSON')
    .action(action('revert'));

  cli
    .command('agent')
    .description(
      'run as a node agent: recipes from a directory (audit unless apply: true), Prometheus metrics, /healthz and /readyz; SIGHUP reloads, SIGTERM reverts and stops',
    )
    .option('--config <file>', 'agent config (YAML); default /etc/tuner/agent.yaml when it exists')
    .option('--recipes <dir>', 'directory of recipe files (overrides the config)')
    .option('--metrics-listen <host:port>', 'address of /metrics, /healthz, /readyz (overrides the config; default 127.0.0.1:9477)')
    .action(action('agent'));
}

function program(): CommandType {
  const cli = new Command('tuner')
    .description('Linux performance tuner driven by eBPF: observe scheduler, lock, I/O and pressure signals; nudge safely.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions() // record passes everything after its command through to it
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  declareObserve(cli);
  declareCi(cli);
  declareRecipes(cli);
  return cli;
}

try {
  await program().parseAsync(process.argv);
} catch (err) {
  const { exitCodeOf } = await import('./errors.js');
  process.exitCode = exitCodeOf(err);
}
await prestart?.discardPrestarted();
