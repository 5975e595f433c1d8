/**
 * Recording profiles: run a workload N times (after warm-up runs) with the
 * probes scoped to its process tree, one summary per run plus the
 * environment, written to a profile; with `alternate`, a second command into
 * a second profile, the two run pair by pair. A failed run makes `ok` false
 * and stops the runs unless `keepGoing`.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { collectEnvironment, environmentDifferences } from './env.js';
import { resolveCommand, type WorkloadOutput } from './gate.js';
import { metricInfo, type MetricInfo } from './metrics.js';
import { PROFILE_FORMAT, PROFILE_VERSION, readProfile, type Alternation, type Profile, type WarmupResult } from './profile.js';
import { RecordProbes } from './probes.js';
import { failed, measureRun, type RunResult } from './run.js';
import { checkSignals, recordableSignals } from './signals.js';

/** Which side of an alternated recording a run belongs to, and its pair: for progress lines. */
export interface RunSide {
  name: 'BASE' | 'NEW';
  file: string;
  /** 1-based pair of runs (one run of each side), of `pairs` (warm-up pairs for warm-up runs). */
  pair: number;
  pairs: number;
}

/** One run starting (or ended): warm-up or measured, index of all runs of that kind; `side` when alternating. */
export interface RecordRunEvent {
  warmup: boolean;
  index: number;
  of: number;
  side?: RunSide;
}

/** A profile and the file it was written to. */
export interface RecordedProfile {
  file: string;
  profile: Profile;
}

/** What `record --alternate` returns (its --json): both profiles, BASE (-o) and NEW (--alternate). */
export interface AlternateRecording {
  alternated: true;
  base: RecordedProfile;
  new: RecordedProfile;
}

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
  /**
   * Record a second command into a second profile, alternating with the
   * first run by run (warm-ups too), pairs in ABBA order: a machine whose
   * load drifts during the recording then weighs on both profiles alike.
   */
  alternate?: { command: string[]; output: string };
  /** Ctrl-C: the workload is stopped and nothing is written. */
  signal?: AbortSignal;
  /** Called before each run (warm-up or measured), for a progress line. */
  onStart?: (r: RecordRunEvent) => void;
  /** Called after each run (warm-up or measured), for progress lines. */
  onRun?: (r: RecordRunEvent & { run: RunResult }) => void;
}

function checkOutputPath(file: string, flag = '-o'): void {
  const dir = path.dirname(path.resolve(file));
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new UsageError(`${flag} ${file}: the directory ${dir} does not exist`);
  }
  try {
    if (statSync(file).isDirectory()) throw new UsageError(`${flag} ${file}: is a directory; expected a file name`);
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

/** The first failed run of a profile (warm-up or measured), if any. */
export function firstFailure(p: Profile): { what: string; exit_code: number | null; signal: string | null } | undefined {
  return [...p.warmups.map((w) => ({ ...w, what: `warm-up run ${w.run}` })), ...p.runs.map((r) => ({ ...r, what: `run ${r.run}` }))].find(
    (r) => r.exit_code !== 0,
  );
}

/**
 * Why a profile is not ok, for stderr; undefined when it is. A profile of
 * `--alternate` is named by its side; the side that did not fail is said to
 * have been stopped because the other did.
 */
export function failureMessage(p: Profile, file: string): string | undefined {
  if (p.ok) return undefined;
  const side = p.alternated ? `${p.alternated.side === 'base' ? 'BASE' : 'NEW'} ` : '';
  const bad = firstFailure(p);
  const tail = `the profile ${file} is marked "ok": false and cannot be compared`;
  if (!bad && p.alternated) {
    const other = p.alternated.side === 'base' ? 'NEW' : 'BASE';
    return `record: ${side}\`${p.command.join(' ')}\` was stopped after ${p.runs.length} of ${p.repeat} runs because ${other} failed; ${tail}`;
  }
  const how = !bad
    ? 'did not complete'
    : bad.exit_code === null
      ? `was killed by ${bad.signal ?? 'a signal'}`
      : `exited with code ${bad.exit_code}`;
  return `record: ${side}${bad ? bad.what : 'the recording'} of \`${p.command.join(' ')}\` ${how}; ${tail}`;
}

/** Write a file whole or not at all (a reader never sees half a profile). */
export function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** One profile being recorded: its command, what is already in the file (--append), its runs so far. */
interface Side {
  command: string[];
  output: string;
  previous: Profile | undefined;
  warmups: WarmupResult[];
  runs: RunResult[];
  ok: boolean;
}

function newSide(
  command: string[],
  output: string,
  flag: string,
  append: boolean,
  signals: readonly string[],
  env: ReturnType<typeof collectEnvironment>,
): Side {
  if (command.length === 0) throw new UsageError('record: expected a command after --, e.g. tuner record -o p.json -- ./bench');
  resolveCommand(command[0]!);
  checkOutputPath(output, flag);
  const previous = append && existsSync(output) ? appendable(output, command, signals, env) : undefined;
  return { command, output, previous, warmups: [], runs: [], ok: true };
}

function profileOf(
  side: Side,
  opts: RecordOptions,
  signals: string[],
  env: ReturnType<typeof collectEnvironment>,
  started: string,
  alternated?: Alternation,
): Profile {
  const { previous } = side;
  const allRuns = [...(previous?.runs ?? []), ...side.runs];
  const metrics: Record<string, MetricInfo> = {};
  for (const r of allRuns) for (const name of Object.keys(r.metrics)) metrics[name] ??= metricInfo(name);
  return {
    format: PROFILE_FORMAT,
    version: PROFILE_VERSION,
    ok: (previous?.ok ?? true) && side.ok && side.runs.length === opts.repeat,
    env: previous?.env ?? env,
    command: [...side.command],
    signals,
    repeat: (previous?.repeat ?? 0) + opts.repeat,
    warmup: (previous?.warmup ?? 0) + opts.warmup,
    started: previous?.started ?? started,
    finished: new Date().toISOString(),
    metrics,
    warmups: [...(previous?.warmups ?? []), ...side.warmups],
    runs: allRuns,
    ...(alternated ? { alternated } : {}),
  };
}

/** The order of the sides in pair i (1-based): ABBA, so neither always runs first. */
const pairOrder = <T>(sides: readonly T[], i: number): readonly T[] => (i % 2 === 1 ? sides : [...sides].reverse());

/** Records the profile at `output` (and, with `alternate`, the second one); returns the first. */
export async function record(opts: RecordOptions): Promise<Profile> {
  return (await recordSides(opts))[0]!.profile;
}

/** `record` with `alternate` (required): both profiles, each with its file. */
export async function recordAlternate(opts: RecordOptions): Promise<AlternateRecording> {
  if (!opts.alternate) throw new UsageError('record: --alternate expected');
  const [base, next] = await recordSides(opts);
  return { alternated: true, base: base!, new: next! };
}

/**
 * Runs the sides in pairs (ABBA with two); a failed run stops the recording
 * at once, the other side included, unless `keepGoing`. Every profile is
 * written (a failed one marked "ok": false).
 */
async function recordSides(opts: RecordOptions): Promise<RecordedProfile[]> {
  const signals = opts.signals === undefined ? recordableSignals() : checkSignals(opts.signals);
  const env = collectEnvironment();
  const sides = [newSide(opts.command, opts.output, '-o', opts.append ?? false, signals, env)];
  if (opts.alternate) {
    if (path.resolve(opts.alternate.output) === path.resolve(opts.output)) {
      throw new UsageError(`--alternate ${opts.alternate.output}: the same file as -o; expected a second profile`);
    }
    sides.push(newSide(opts.alternate.command, opts.alternate.output, '--alternate', opts.append ?? false, signals, env));
  }
  const started = new Date().toISOString();
  const runOpts = { output: opts.workloadOutput ?? 'stderr', timeoutMs: opts.timeoutMs, abort: opts.signal } as const;
  const probes = new RecordProbes(signals);
  const k = sides.length;
  const keepGoing = opts.keepGoing ?? false;
  const event = (warmup: boolean, i: number, j: number, side: Side): RecordRunEvent => {
    const of = k * (warmup ? opts.warmup : opts.repeat);
    const e: RecordRunEvent = { warmup, index: k * (i - 1) + j + 1, of };
    if (k > 1) e.side = { name: side === sides[0] ? 'BASE' : 'NEW', file: side.output, pair: i, pairs: of / k };
    return e;
  };
  try {
    // A failed warm-up ends the warm-ups at once (and, without keepGoing, the recording).
    warmups: for (let i = 1; i <= opts.warmup; i++) {
      for (const [j, side] of pairOrder(sides, i).entries()) {
        const e = event(true, i, j, side);
        opts.onStart?.(e);
        const r = await measureRun(side.command, (side.previous?.warmups.length ?? 0) + i, runOpts);
        side.warmups.push({ run: r.run, exit_code: r.exit_code, signal: r.signal, wall_ns: r.metrics.wall_ns ?? 0 });
        opts.onRun?.({ ...e, run: r });
        if (failed(r)) {
          side.ok = false;
          break warmups;
        }
      }
    }
    // A failed run stops the recording at once, the rest of its pair included, unless keepGoing.
    runs: for (let i = 1; i <= opts.repeat && (keepGoing || sides.every((s) => s.ok)); i++) {
      for (const [j, side] of pairOrder(sides, i).entries()) {
        const e = event(false, i, j, side);
        opts.onStart?.(e);
        const r = await measureRun(side.command, (side.previous?.runs.length ?? 0) + i, { ...runOpts, probes });
        side.runs.push(r);
        opts.onRun?.({ ...e, run: r });
        if (failed(r)) {
          side.ok = false;
          if (!keepGoing) break runs;
        }
      }
    }
  } finally {
    probes.close();
  }
  const id = randomUUID();
  const alternation = (i: number): Alternation | undefined => {
    if (k < 2) return undefined;
    const partner = sides[1 - i]!;
    return { id, side: i === 0 ? 'base' : 'new', partner: partner.output, partner_command: [...partner.command], order: 'ABBA' };
  };
  const recorded = sides.map((side, i) => ({ file: side.output, profile: profileOf(side, opts, signals, env, started, alternation(i)) }));
  for (const r of recorded) writeAtomically(r.file, JSON.stringify(r.profile, null, 2) + '\n');
  return recorded;
}
