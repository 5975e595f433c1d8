/**
 * Every command and option of tuner, declared in one place. Actions import
 * their command lazily (start-up stays fast), get data back, and print it as
 * a view or as JSON. Errors are caught once, in main().
 */
import { Command, CommanderError, Option } from 'commander';
import { InternalError, TunerError, UsageError } from './errors.js';
import { parseChoice, parseDuration, parsePids, parsePositiveInt } from './options/parse.js';
import { stopSignal } from './lifecycle/exit.js';

const VERSION = '0.1.0';

/** --strategy and --seed of run and replay. */
function strategyFlags(flags: { strategy?: string; seed?: string }): { strategy?: 'heuristic' | 'learned'; seed?: number } {
  return {
    ...(flags.strategy !== undefined ? { strategy: parseChoice(flags.strategy, ['heuristic', 'learned'] as const, '--strategy') } : {}),
    ...(flags.seed !== undefined ? { seed: parsePositiveInt(flags.seed, '--seed', 2 ** 31 - 1) } : {}),
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

interface WatchFlags {
  interval: string;
  count?: string;
  duration?: string;
  pid?: string[];
  cgroup?: string;
  top: string;
  json?: boolean;
  backend: string;
  runqOutlier: string;
  futexOutlier: string;
  ioOutlier: string;
}

/** An outlier threshold in ns: a duration, or "off". */
function parseThreshold(text: string, what: string): number {
  return text === 'off' ? 0 : parseDuration(text, what) * 1e6;
}

function program(): Command {
  const cli = new Command('tuner')
    .description('Linux performance tuner driven by eBPF: observe scheduler, lock, I/O and pressure signals; nudge safely.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions() // record passes everything after its command through to it
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

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
    .addOption(new Option('--backend <backend>', 'bpf (CO-RE objects via bpftool), bpftrace, or auto').default('auto'))
    .option('--runq-outlier <duration>', 'events: report run-queue waits at least this long ("off" for none)', '10ms')
    .option('--futex-outlier <duration>', 'events: report futex waits at least this long ("off" for none)', '50ms')
    .option('--io-outlier <duration>', 'events: report block requests at least this slow ("off" for none)', '50ms')
    .action(async (signal: string, flags: WatchFlags) => {
      const { WATCH_SIGNALS, watch } = await import('./commands/watch.js');
      const which = parseChoice(signal, WATCH_SIGNALS, 'watch <signal>');
      const opts = {
        intervalMs: parseDuration(flags.interval, '--interval'),
        count: flags.count === undefined ? undefined : parsePositiveInt(flags.count, '--count'),
        durationMs: flags.duration === undefined ? undefined : parseDuration(flags.duration, '--duration'),
        pids: flags.pid === undefined ? undefined : parsePids(flags.pid),
        cgroup: flags.cgroup,
        top: parsePositiveInt(flags.top, '--top', 100_000),
        backend: parseChoice(flags.backend, ['auto', 'bpf', 'bpftrace'] as const, '--backend'),
        signal: stopSignal,
        outliers: {
          runqNs: parseThreshold(flags.runqOutlier, '--runq-outlier'),
          futexNs: parseThreshold(flags.futexOutlier, '--futex-outlier'),
          ioNs: parseThreshold(flags.ioOutlier, '--io-outlier'),
        },
        warn: (m: string) => process.stderr.write(`tuner: warning: ${m}\n`),
      };
      if (opts.intervalMs < 10) throw new UsageError(`--interval: expected at least 10ms, got ${flags.interval}`);
      const { toJsonLine } = await import('./output/json.js');
      const { liveWriter } = await import('./output/live.js');
      const { signalsOf } = await import('./commands/watch.js');
      // The views (cli-table3) load only when printed: with --json the first record comes 17 ms sooner.
      const render = flags.json ? undefined : await (await import('./output/views.js')).loadViews(signalsOf(which));
      const view = liveWriter();
      const perTick = signalsOf(which).length;
      let batch: unknown[] = [];
      for await (const record of watch(which, opts)) {
        if (flags.json) {
          process.stdout.write(toJsonLine(record));
          continue;
        }
        batch.push(record);
        if (batch.length === perTick) {
          view.write(render!(batch as Parameters<NonNullable<typeof render>>[0]));
          batch = [];
        }
      }
    });

  cli
    .command('diagnose')
    .description('measure one process (or cgroup) for a few seconds and name what holds it back, with the evidence')
    .option('--pid <pid>', 'the process to diagnose')
    .option('--cgroup <path>', 'diagnose a whole cgroup subtree instead')
    .option('--duration <duration>', 'how long to measure', '5s')
    .option('--threshold <name=value>', 'override a threshold (repeatable; see README)', collect)
    .option('--json', 'print the report as JSON')
    .addOption(new Option('--backend <backend>', 'bpf, bpftrace (sched only), or auto').default('auto'))
    .action(async (flags: { pid?: string; cgroup?: string; duration: string; threshold?: string[]; json?: boolean; backend: string }) => {
      const { diagnose } = await import('./commands/diagnose.js');
      const { parseThresholds } = await import('./diagnose/thresholds.js');
      if (flags.pid === undefined && flags.cgroup === undefined) throw new UsageError('diagnose: give --pid PID or --cgroup PATH');
      const pids = flags.pid === undefined ? undefined : parsePids([flags.pid]);
      if (pids && pids.length !== 1) throw new UsageError(`--pid: diagnose takes one process, got ${pids.length}`);
      const tty = process.stderr.isTTY === true && !flags.json;
      const report = await diagnose({
        pid: pids?.[0],
        cgroup: flags.cgroup,
        durationMs: parseDuration(flags.duration, '--duration'),
        thresholds: parseThresholds(flags.threshold),
        backend: parseChoice(flags.backend, ['auto', 'bpf', 'bpftrace'] as const, '--backend'),
        signal: stopSignal,
        onProgress: tty ? (done, total) => process.stderr.write(`\r  measuring... ${(done / 1000).toFixed(1)} / ${(total / 1000).toFixed(1)} s `) : undefined,
      });
      if (tty) process.stderr.write('\r\x1b[K');
      if (flags.json) {
        const { toJson } = await import('./output/json.js');
        process.stdout.write(toJson(report) + '\n');
      } else {
        const { renderDiagnose } = await import('./output/diagnose-view.js');
        process.stdout.write(renderDiagnose(report) + '\n');
      }
    });

  cli
    .command('doctor')
    .description('check that this host can run tuner, and say how to fix what is missing')
    .option('--json', 'print the report as JSON')
    .option('--no-load', 'skip loading the sched object')
    .action(async (flags: { json?: boolean; load: boolean }) => {
      const { doctor } = await import('./commands/doctor.js');
      const report = await doctor({ noLoad: !flags.load });
      if (flags.json) {
        const { toJson } = await import('./output/json.js');
        process.stdout.write(toJson(report, 2) + '\n');
      } else {
        const { renderDoctor } = await import('./output/doctor-view.js');
        process.stdout.write(renderDoctor(report) + '\n');
      }
      if (!report.ok) process.exitCode = 1;
    });

  cli
    .command('cleanup')
    .description('remove BPF pins left behind by tuner processes that were killed')
    .option('--json', 'print what was removed as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { cleanup } = await import('./commands/cleanup.js');
      const result = await cleanup();
      if (flags.json) {
        const { toJson } = await import('./output/json.js');
        process.stdout.write(toJson(result, 2) + '\n');
      } else {
        for (const r of result.removed) process.stdout.write(`removed ${r.dir} (pid ${r.pid} is gone)\n`);
        for (const r of result.live) process.stdout.write(`kept ${r.dir} (pid ${r.pid} is running)\n`);
        if (result.removed.length === 0) process.stdout.write('nothing to clean up\n');
      }
    });

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
    .option('--quiet', "discard the workload's output (by default it goes to stderr)")
    .option('--json', 'print the profile as JSON')
    .passThroughOptions()
    .action(async (command: string[], flags: { output: string; signals?: string; repeat: string; warmup: string; timeout?: string; keepGoing?: boolean; append?: boolean; quiet?: boolean; json?: boolean }) => {
      const { record, failureMessage } = await import('./commands/record.js');
      const { parseCount } = await import('./compare/options.js');
      const { renderProfile, renderRunLine } = await import('./output/record-view.js');
      const { RecordProgress } = await import('./output/record-progress.js');
      const repeat = parsePositiveInt(flags.repeat, '--repeat', 10_000);
      const warmup = parseCount(flags.warmup, '--warmup');
      const progress = new RecordProgress(process.stderr, { warmup, repeat });
      const profile = await record({
        command,
        signals: flags.signals === undefined ? undefined : [flags.signals],
        repeat,
        warmup,
        output: flags.output,
        workloadOutput: flags.quiet ? 'ignore' : 'stderr',
        keepGoing: flags.keepGoing,
        append: flags.append,
        timeoutMs: flags.timeout === undefined ? undefined : parseDuration(flags.timeout, '--timeout'),
        signal: stopSignal,
        onStart: (e) => progress.start(e),
        onRun: (r) => {
          progress.done();
          progress.clear();
          process.stderr.write(renderRunLine(r) + '\n');
        },
      }).finally(() => progress.clear());
      if (flags.json) process.stdout.write((await import('./output/json.js')).toJson(profile, 2) + '\n');
      else process.stdout.write(renderProfile(profile, flags.output) + '\n');
      const failure = failureMessage(profile, flags.output);
      if (failure) {
        process.stderr.write(`tuner: ${failure}\n`);
        process.exitCode = 1;
      }
    });

  cli
    .command('compare')
    .description('compare two profiles metric by metric; exit 1 when a gated metric regressed beyond the threshold with significance, 3 when one needs more runs to tell')
    .argument('<base>', 'profile recorded before the change')
    .argument('<new>', 'profile recorded after the change')
    .option('--threshold <percent>', 'smallest change that counts', '10%')
    .option('--alpha <p>', 'false discovery rate over the gated metrics (with nothing changed: the chance of a false alarm)', '0.05')
    .option('--metrics <list>', "gate these: names, globs (sched.*, '*' for all) or signals, comma-separated (default: the time totals); the rest are reported")
    .option('--allow-needs-more-runs', 'a gated metric that needs more runs to tell a worsening passes (exit 0) instead of failing (exit 3)')
    .option('--html <file>', 'also write a self-contained HTML report with charts to this file')
    .addOption(new Option('--format <format>', 'table, json, markdown or junit').default('table'))
    .option('--json', 'same as --format json')
    .option('--strict-env', 'exit 2 instead of warning when the profiles come from different environments')
    .action(async (base: string, next: string, flags: { threshold: string; alpha: string; metrics?: string; format: string; json?: boolean; strictEnv?: boolean; allowNeedsMoreRuns?: boolean; html?: string }) => {
      const { compare } = await import('./commands/compare.js');
      const { parseAlpha, parsePercent } = await import('./compare/options.js');
      const format = flags.json ? 'json' : parseChoice(flags.format, ['table', 'json', 'markdown', 'junit'] as const, '--format');
      const result = await compare({
        base,
        new: next,
        threshold: parsePercent(flags.threshold, '--threshold'),
        alpha: parseAlpha(flags.alpha),
        metrics: flags.metrics === undefined ? undefined : [flags.metrics],
        strictEnv: flags.strictEnv,
        allowNeedsMoreRuns: flags.allowNeedsMoreRuns,
      });
      if (flags.html !== undefined) await (await import('./output/compare-html.js')).writeHtmlReport(result, flags.html);
      if (format !== 'table') for (const w of result.warnings) process.stderr.write(`tuner: WARNING: ${w}\n`);
      if (format === 'json') process.stdout.write((await import('./output/json.js')).toJson(result, 2) + '\n');
      else if (format === 'markdown') process.stdout.write((await import('./output/compare-markdown.js')).renderMarkdown(result));
      else if (format === 'junit') process.stdout.write((await import('./output/compare-junit.js')).renderJunit(result));
      else process.stdout.write((await import('./output/compare-view.js')).renderCompare(result) + '\n');
      process.exitCode = result.exit_code;
    });

  cli
    .command('validate')
    .description('check recipe files without running them (exit 2 when any is bad)')
    .argument('<recipe...>', 'recipe files (YAML)')
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], flags: { json?: boolean }) => {
      const { validate } = await import('./commands/validate.js');
      const result = await validate(files);
      if (flags.json) process.stdout.write((await import('./output/json.js')).toJson(result, 2) + '\n');
      else process.stdout.write((await import('./output/run-view.js')).renderValidate(result) + '\n');
    });

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
    .addOption(new Option('--backend <backend>', 'bpf (CO-RE objects via bpftool), bpftrace, or auto').default('auto'))
    .option('--strategy <strategy>', 'heuristic or learned (overrides the recipes)')
    .option('--seed <n>', 'random seed of the learned strategy (default: from the clock, printed)')
    .action(async (files: string[], flags: { apply?: boolean; watch?: boolean; duration?: string; interval?: string; cgroup?: string; pid?: string[]; json?: boolean; auditLog?: string; backend: string; strategy?: string; seed?: string }) => {
      const { run } = await import('./commands/run.js');
      const events = run({
        recipes: files,
        apply: flags.apply ?? false,
        watch: flags.watch,
        durationMs: flags.duration === undefined ? undefined : parseDuration(flags.duration, '--duration'),
        intervalMs: flags.interval === undefined ? undefined : parseDuration(flags.interval, '--interval'),
        cgroup: flags.cgroup,
        pids: flags.pid === undefined ? undefined : parsePids(flags.pid),
        auditLog: flags.auditLog,
        backend: parseChoice(flags.backend, ['auto', 'bpf', 'bpftrace'] as const, '--backend'),
        signal: stopSignal,
        ...strategyFlags(flags),
      });
      const { toJsonLine } = await import('./output/json.js');
      const { renderEvent } = await import('./output/run-view.js');
      for await (const e of events) process.stdout.write(flags.json ? toJsonLine(e) : renderEvent(e, flags.apply ? 'apply' : 'audit') + '\n');
    });

  cli
    .command('replay')
    .description('run recipes against a feed recorded with `tuner watch ... --json`: touches nothing, prints what would have been done and when')
    .argument('<feed>', 'NDJSON feed')
    .argument('<recipe...>', 'recipe files (YAML)')
    .option('--cgroup <name>', 'scope: this cgroup subtree of the recorded host (overrides the recipes)')
    .option('--pid <pid>', 'scope: these processes of the recorded host', collect)
    .option('--assume <knob=value>', 'a knob\'s value at the start (default: the kernel default), e.g. /sys/fs/cgroup/app/cpu.weight=10000', collect)
    .option('--json', 'one NDJSON event per line')
    .option('--strategy <strategy>', 'heuristic or learned (overrides the recipes)')
    .option('--seed <n>', 'random seed of the learned strategy (default 1)')
    .action(async (feed: string, files: string[], flags: { cgroup?: string; pid?: string[]; assume?: string[]; json?: boolean; strategy?: string; seed?: string }) => {
      const { replay, parseReplayPids } = await import('./commands/replay.js');
      const events = replay({ feed, recipes: files, cgroup: flags.cgroup, pids: flags.pid === undefined ? undefined : parseReplayPids(flags.pid), assume: flags.assume, ...strategyFlags(flags) });
      const { toJsonLine } = await import('./output/json.js');
      const { renderEvent } = await import('./output/run-view.js');
      for await (const e of events) process.stdout.write(flags.json ? toJsonLine(e) : renderEvent(e, 'replay') + '\n');
    });

  cli
    .command('revert')
    .description('after a tuner was killed, put back every knob its journal holds and remove its stale pins')
    .option('--json', 'print what was restored as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { revert } = await import('./commands/revert.js');
      const result = await revert();
      if (flags.json) process.stdout.write((await import('./output/json.js')).toJson(result, 2) + '\n');
      else process.stdout.write((await import('./output/run-view.js')).renderRevert(result) + '\n');
      process.exitCode = result.exitCode;
    });

  cli
    .command('agent')
    .description('run as a node agent: recipes from a directory (audit unless apply: true), Prometheus metrics, /healthz and /readyz; SIGHUP reloads, SIGTERM reverts and stops')
    .option('--config <file>', 'agent config (YAML); default /etc/tuner/agent.yaml when it exists')
    .option('--recipes <dir>', 'directory of recipe files (overrides the config)')
    .option('--metrics-listen <host:port>', 'address of /metrics, /healthz, /readyz (overrides the config; default 127.0.0.1:9477)')
    .action(async (flags: { config?: string; recipes?: string; metricsListen?: string }) => {
      const { agent } = await import('./commands/agent.js');
      await agent({ ...flags, signal: stopSignal });
    });

  return cli;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    process.exitCode = report(err);
  }
}

/** Print an error the way its class asks; return the exit code. */
function report(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    return 2; // commander already printed the message
  }
  if (err instanceof TunerError && !(err instanceof InternalError)) {
    process.stderr.write(`tuner: ${err.message}\n`);
    if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
    return err.exitCode;
  }
  process.stderr.write(`tuner: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 70;
}
