/**
 * `tuner record -- <command>`: run a workload N times (after warm-up runs)
 * with the probes scoped to its process tree, and write one summary per run
 * plus the environment to a profile. Returns the profile; a failed run makes
 * `ok` false (the CLI then exits 1), and stops the runs unless `keepGoing`.
 */
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { SIGNALS, signalsWith } from '../signals/registry.js';
import { collectEnvironment, environmentDifferences } from '../record/env.js';
import { resolveCommand, type WorkloadOutput } from '../record/gate.js';
import { metricInfo, type MetricInfo } from '../record/metrics.js';
import { PROFILE_FORMAT, PROFILE_VERSION, readProfile, type Profile, type WarmupResult } from '../record/profile.js';
import { RecordProbes } from '../record/probes.js';
import { failed, measureRun, type RunResult } from '../record/run.js';
import { stopSignal } from '../lifecycle/exit.js';
import { parseDuration, parsePositiveInt } from '../options/parse.js';
import { parseCount } from '../compare/options.js';
import { line, type CommandSpec } from './spec.js';

export interface RecordOptions {
  /** The workload: program and arguments. */
  command: string[];
  /** Signals to record (default: every signal this tuner has). */
  signals?: string[];
  repeat: number;
  warmup: number;
  /** Profile path. */
  output: string;
  workloadOutput?: WorkloadOutput;
  /** Run every repetition even after a failure. */
  keepGoing?: boolean;
  /**
   * Add the runs to the profile at `output` when it exists (same command,
   * signals and environment): recording BASE and NEW in alternation this way
   * spreads the machine's drift over both.
   */
  append?: boolean;
  timeoutMs?: number;
  /** Ctrl-C: the workload is stopped and nothing is written. */
  signal?: AbortSignal;
  /** Called before each run (warm-up or measured), for a progress line. */
  onStart?: (r: { warmup: boolean; index: number; of: number }) => void;
  /** Called after each run (warm-up or measured), for progress lines. */
  onRun?: (r: { warmup: boolean; index: number; of: number; run: RunResult }) => void;
}

/** Signals `record` summarises per run, in the order it opens them (the rest of SIGNALS are live-only views). */
export const RECORD_SIGNALS: readonly string[] = signalsWith('record');

/** The record signals this build has. */
export function recordableSignals(available: readonly string[] = SIGNALS): string[] {
  return RECORD_SIGNALS.filter((s) => available.includes(s));
}

/** `--signals` values: signals record summarises, available in this build, deduplicated. */
export function checkSignals(requested: readonly string[], available: readonly string[] = SIGNALS): string[] {
  const usable = recordableSignals(available);
  const out: string[] = [];
  for (const s of requested
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!usable.includes(s)) {
      const why = RECORD_SIGNALS.includes(s)
        ? `is not available in this tuner yet`
        : available.includes(s)
          ? 'is a live view that record does not summarise'
          : 'is not a signal tuner knows';
      throw new UsageError(`--signals: ${JSON.stringify(s)} ${why} (record can use: ${usable.join(', ')})`);
    }
    if (!out.includes(s)) out.push(s);
  }
  if (out.length === 0 && requested.length > 0) throw new UsageError('--signals: expected at least one signal');
  return out;
}

function checkOutputPath(file: string): void {
  const dir = path.dirname(path.resolve(file));
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new UsageError(`-o ${file}: the directory ${dir} does not exist`);
  }
  try {
    if (statSync(file).isDirectory()) throw new UsageError(`-o ${file}: is a directory; expected a file name`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
  }
}

/** The profile `--append` adds to: it must record the same command with the same signals, on this machine. */
function appendable(
  file: string,
  command: readonly string[],
  signals: readonly string[],
  env: ReturnType<typeof collectEnvironment>,
): Profile {
  const p = readProfile(file);
  const same = (a: readonly string[], b: readonly string[]): boolean => JSON.stringify(a) === JSON.stringify(b);
  if (!same(p.command, command)) {
    throw new UsageError(`--append: ${file} records \`${p.command.join(' ')}\`, not \`${command.join(' ')}\``);
  }
  if (!same(p.signals, signals)) {
    throw new UsageError(`--append: ${file} records the signals ${p.signals.join(', ')}, not ${signals.join(', ')}`);
  }
  const diff = environmentDifferences(p.env, env);
  if (diff.length > 0) {
    throw new UsageError(
      `--append: ${file} was recorded in another environment (${diff.map((d) => `${d.field} ${d.base} vs ${d.new}`).join('; ')})`,
    );
  }
  return p;
}

/** Why a profile is not ok, for stderr; undefined when it is. */
export function failureMessage(p: Profile, file: string): string | undefined {
  if (p.ok) return undefined;
  const bad = [
    ...p.warmups.map((w) => ({ ...w, what: `warm-up run ${w.run}` })),
    ...p.runs.map((r) => ({ ...r, what: `run ${r.run}` })),
  ].find((r) => r.exit_code !== 0);
  const how = !bad
    ? 'did not complete'
    : bad.exit_code === null
      ? `was killed by ${bad.signal ?? 'a signal'}`
      : `exited with code ${bad.exit_code}`;
  return `record: ${bad ? bad.what : 'the recording'} of \`${p.command.join(' ')}\` ${how}; the profile ${file} is marked "ok": false and cannot be compared`;
}

/** Write a file whole or not at all (a reader never sees half a profile). */
export function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export async function record(opts: RecordOptions): Promise<Profile> {
  if (opts.command.length === 0) throw new UsageError('record: expected a command after --, e.g. tuner record -o p.json -- ./bench');
  const signals = opts.signals === undefined ? recordableSignals() : checkSignals(opts.signals);
  resolveCommand(opts.command[0]!);
  checkOutputPath(opts.output);

  const env = collectEnvironment();
  const previous = opts.append && existsSync(opts.output) ? appendable(opts.output, opts.command, signals, env) : undefined;
  const started = new Date().toISOString();
  const runOpts = { output: opts.workloadOutput ?? 'stderr', timeoutMs: opts.timeoutMs, abort: opts.signal } as const;
  const probes = new RecordProbes(signals);
  const warmups: WarmupResult[] = [];
  const runs: RunResult[] = [];
  let ok = true;

  const warmupBase = previous?.warmups.length ?? 0;
  const runBase = previous?.runs.length ?? 0;
  try {
    for (let i = 1; i <= opts.warmup && ok; i++) {
      opts.onStart?.({ warmup: true, index: i, of: opts.warmup });
      const r = await measureRun(opts.command, warmupBase + i, runOpts);
      warmups.push({ run: warmupBase + i, exit_code: r.exit_code, signal: r.signal, wall_ns: r.metrics.wall_ns ?? 0 });
      opts.onRun?.({ warmup: true, index: i, of: opts.warmup, run: r });
      if (failed(r)) ok = false;
    }
    for (let i = 1; i <= opts.repeat && (ok || opts.keepGoing); i++) {
      opts.onStart?.({ warmup: false, index: i, of: opts.repeat });
      const r = await measureRun(opts.command, runBase + i, { ...runOpts, probes });
      runs.push(r);
      opts.onRun?.({ warmup: false, index: i, of: opts.repeat, run: r });
      if (failed(r)) ok = false;
    }
  } finally {
    probes.close();
  }

  const allRuns = [...(previous?.runs ?? []), ...runs];
  const metrics: Record<string, MetricInfo> = {};
  for (const r of allRuns) for (const name of Object.keys(r.metrics)) metrics[name] ??= metricInfo(name);
  const profile: Profile = {
    format: PROFILE_FORMAT,
    version: PROFILE_VERSION,
    ok: (previous?.ok ?? true) && ok && runs.length === opts.repeat,
    env: previous?.env ?? env,
    command: [...opts.command],
    signals,
    repeat: (previous?.repeat ?? 0) + opts.repeat,
    warmup: (previous?.warmup ?? 0) + opts.warmup,
    started: previous?.started ?? started,
    finished: new Date().toISOString(),
    metrics,
    warmups: [...(previous?.warmups ?? []), ...warmups],
    runs: allRuns,
  };
  writeAtomically(opts.output, JSON.stringify(profile, null, 2) + '\n');
  return profile;
}

export const command: CommandSpec<RecordOptions & { progress: { clear(): void } }, Profile> = {
  async options([cmd], flags) {
    const f = flags as {
      output: string;
      signals?: string;
      repeat: string;
      warmup: string;
      timeout?: string;
      keepGoing?: boolean;
      append?: boolean;
      quiet?: boolean;
    };
    const { renderRunLine } = await import('../output/record-view.js');
    const { RecordProgress } = await import('../output/record-progress.js');
    const repeat = parsePositiveInt(f.repeat, '--repeat', 10_000);
    const warmup = parseCount(f.warmup, '--warmup');
    const progress = new RecordProgress(process.stderr, { warmup, repeat });
    return {
      command: cmd as string[],
      signals: f.signals === undefined ? undefined : [f.signals],
      repeat,
      warmup,
      output: f.output,
      workloadOutput: f.quiet ? 'ignore' : 'stderr',
      keepGoing: f.keepGoing,
      append: f.append,
      timeoutMs: f.timeout === undefined ? undefined : parseDuration(f.timeout, '--timeout'),
      signal: stopSignal,
      onStart: (e) => progress.start(e),
      onRun: (r) => {
        progress.done();
        progress.clear();
        process.stderr.write(renderRunLine(r) + '\n');
      },
      progress,
    };
  },
  run: (o) => record(o).finally(() => o.progress.clear()),
  output: {
    indent: 2,
    async view(o) {
      const { renderProfile } = await import('../output/record-view.js');
      return line((p: Profile) => renderProfile(p, o.output));
    },
  },
  after(p, o) {
    const failure = failureMessage(p, o.output);
    return failure ? { exitCode: 1, stderr: [`tuner: ${failure}`] } : {};
  },
};
