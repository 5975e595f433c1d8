/**
 * `tuner record -- <command>`: record a workload's runs into a profile
 * (src/record/recording.ts does the work); `--alternate` records a second
 * command into a second profile, the two run pair by pair. Exits 1 when a
 * run failed.
 */
import { UsageError } from '../errors.js';
import {
  failureMessage,
  firstFailure,
  record,
  recordAlternate,
  type AlternateRecording,
  type RecordedProfile,
  type RecordOptions,
} from '../record/recording.js';
import type { Profile } from '../record/profile.js';
import { stopSignal } from '../lifecycle/exit.js';
import { parseDuration, parsePositiveInt } from '../options/parse.js';
import { parseCount } from '../compare/options.js';
import { line, type CommandSpec } from './spec.js';

/**
 * `--alternate NEW.json -- BASE_CMD ... :: NEW_CMD ...`: the command line
 * split at its lone `::`. Without --alternate the command is left whole.
 */
export function splitAlternate(argv: readonly string[], alternate: string | undefined): { command: string[]; other?: string[] } {
  if (alternate === undefined) return { command: [...argv] };
  const at = argv.indexOf('::');
  if (at < 0) {
    throw new UsageError(`--alternate ${alternate}: expected two commands separated by a lone ::, e.g. -- ./base/bench :: ./new/bench`);
  }
  if (argv.indexOf('::', at + 1) >= 0) throw new UsageError(`--alternate ${alternate}: expected one ::, found more`);
  const command = argv.slice(0, at);
  const other = argv.slice(at + 1);
  if (command.length === 0 || other.length === 0) {
    throw new UsageError(`--alternate ${alternate}: expected a command on each side of ::, e.g. -- ./base/bench :: ./new/bench`);
  }
  return { command, other };
}

const runs = (p: Profile): string => `${p.runs.length} run${p.runs.length === 1 ? '' : 's'}`;

/** The failure messages of the recorded profiles, the side that failed first. */
function failures(recorded: readonly RecordedProfile[]): string[] {
  const bad = [...recorded].sort((a, b) => Number(firstFailure(b.profile) !== undefined) - Number(firstFailure(a.profile) !== undefined));
  return bad.map((r) => failureMessage(r.profile, r.file)).filter((f): f is string => f !== undefined);
}

export const command: CommandSpec<RecordOptions & { progress: { clear(): void } }, Profile | AlternateRecording> = {
  async options([cmd], flags) {
    const f = flags as {
      output: string;
      signals?: string;
      repeat: string;
      warmup: string;
      timeout?: string;
      keepGoing?: boolean;
      append?: boolean;
      alternate?: string;
      quiet?: boolean;
    };
    const { renderRunLine } = await import('../output/record-view.js');
    const { RecordProgress } = await import('../output/record-progress.js');
    const repeat = parsePositiveInt(f.repeat, '--repeat', 10_000);
    const warmup = parseCount(f.warmup, '--warmup');
    const { command, other } = splitAlternate(cmd as string[], f.alternate);
    const k = other ? 2 : 1;
    const progress = new RecordProgress(process.stderr, { warmup: k * warmup, repeat: k * repeat });
    return {
      command,
      alternate: other && f.alternate !== undefined ? { command: other, output: f.alternate } : undefined,
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
  run: (o) => (o.alternate ? recordAlternate(o) : record(o)).finally(() => o.progress.clear()),
  output: {
    indent: 2,
    async view(o) {
      const { renderProfile } = await import('../output/record-view.js');
      return line((r: Profile | AlternateRecording) =>
        'alternated' in r && r.alternated === true
          ? `${renderProfile(r.base.profile, r.base.file)}\n\n${renderProfile(r.new.profile, r.new.file)}`
          : renderProfile(r as Profile, o.output),
      );
    },
  },
  after(r, o) {
    const both = 'alternated' in r && r.alternated === true;
    const recorded = both ? [r.base, r.new] : [{ file: o.output, profile: r as Profile }];
    const stderr = both
      ? [
          `tuner: wrote ${r.base.file} (BASE, ${runs(r.base.profile)}) and ${r.new.file} (NEW, ${runs(r.new.profile)}), recorded in alternation`,
        ]
      : [];
    const failed = failures(recorded);
    return failed.length ? { exitCode: 1, stderr: [...stderr, ...failed.map((f) => `tuner: ${f}`)] } : stderr.length ? { stderr } : {};
  },
};
