/**
 * `tuner compare BASE NEW`: per gated metric, the medians, their ratio, a
 * confidence interval and a test, and a verdict. Returns the comparison; the
 * CLI prints it (table, JSON, markdown, JUnit, HTML) and exits with
 * `exit_code`: 1 when a gated metric regressed beyond the threshold with
 * significance; 3 when none did but one needs more runs to tell a worsening
 * (every NEW run worse than every BASE run, not yet significant), unless
 * `allowNeedsMoreRuns`; 0 otherwise. Unreadable or incompatible profiles
 * throw ProfileError (2).
 */
import { median } from 'simple-statistics';
import { environmentDifferences, type EnvDifference, type Environment } from '../record/env.js';
import { metricInfo, type MetricInfo } from '../record/metrics.js';
import { ProfileError, readProfile, type Profile } from '../record/profile.js';
import { analyse, failsGate, type MetricComparison } from '../compare/analyse.js';
import { selectMetrics } from '../compare/select.js';
import { parseChoice } from '../options/parse.js';
import { parseAlpha, parsePercent } from '../compare/options.js';
import type { CommandSpec } from './spec.js';

export interface CompareOptions {
  base: string;
  new: string;
  /** 0.1 for 10%. */
  threshold: number;
  alpha: number;
  /** Gate these: names, globs or signal names; default: the time totals (PRIMARY_METRICS). */
  metrics?: string[];
  /** Different environments are an error (exit 2) instead of a warning. */
  strictEnv?: boolean;
  resamples?: number;
  /** A needs-more-runs verdict on a worsening passes the gate instead of failing it (exit 3). */
  allowNeedsMoreRuns?: boolean;
}

export interface ProfileRef {
  path: string;
  command: string[];
  runs: number;
  recorded: string;
  env: Environment;
  /** Median share of all CPUs busy with other work than the workload during its runs, when recorded. */
  other_busy_pct: number | null;
}

/** The power at which a change counts as caught reliably (19 in 20). */
export const RELIABLE = 0.95;

/** Percentage points of "other work" between BASE and NEW above which a comparison is called into doubt. */
export const BUSY_DIFFERENCE_WARN = 10;

export interface CompareResult {
  base: ProfileRef;
  new: ProfileRef;
  threshold: number;
  alpha: number;
  /** The metrics the gate looks at; the others are reported. */
  gated: string[];
  /** Metric name -> label, unit, floor. */
  info: Record<string, MetricInfo>;
  metrics: MetricComparison[];
  env_differences: EnvDifference[];
  /** BASE and NEW come from one `record --alternate`, run by run (their different commands are then the point). */
  alternated: boolean;
  /** What a reader should know that is not a doubt about the result (how the profiles were recorded). */
  notes: string[];
  warnings: string[];
  /** Gated metrics by verdict (the reported ones carry theirs in `metrics`). */
  regressed: string[];
  improved: string[];
  too_noisy: string[];
  /** Metrics whose NEW runs are all worse (or all better) beyond the threshold, not yet significant. */
  needs_more_runs: string[];
  /** Metrics that fail the gate: regressed, and needs-more-runs worsenings unless allowed. */
  failing: string[];
  allow_needs_more_runs: boolean;
  /** 0 pass; 1 a gated metric regressed; 3 none regressed but one needs more runs to tell a worsening. */
  exit_code: 0 | 1 | 3;
}

function ref(path: string, p: Profile): ProfileRef {
  const busy = p.runs.map((r) => r.details['host.other_busy_pct']).filter((v): v is number => typeof v === 'number');
  return {
    path,
    command: p.command,
    runs: p.runs.length,
    recorded: p.env.date,
    env: p.env,
    other_busy_pct: busy.length ? median(busy) : null,
  };
}

/** The share of all CPUs busy with other work during each run (null where the profile has none). */
function loadOf(p: Profile): Array<number | null> {
  return p.runs.map((r) => {
    const v = r.details['host.other_busy_pct'];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  });
}

function usable(p: Profile, what: string): void {
  const bad = p.runs.find((r) => r.exit_code !== 0);
  if (bad) {
    const how = bad.exit_code === null ? `was killed by ${bad.signal ?? 'a signal'}` : `exited with code ${bad.exit_code}`;
    throw new ProfileError(`${what}: run ${bad.run} of the workload ${how}; a failed recording cannot be compared`);
  }
  if (p.runs.length === 0) throw new ProfileError(`${what}: the profile has no runs`);
}

/** A warning naming the gated too-noisy metrics whose spread no test could see a 2x change through at these counts. */
function outOfReachWarning(rows: readonly MetricComparison[], runs: number): string | null {
  const out = rows.filter((r) => r.gated && r.verdict === 'too-noisy' && r.reach !== null && r.reach.power_2x < RELIABLE);
  if (out.length === 0) return null;
  const each = out
    .map(
      (r) =>
        `${r.metric} (log sd ${r.reach!.sd.toFixed(2)}: ${Math.round(100 * r.reach!.power_2x)}%, ${r.reach!.runs_for_2x ?? '?'} runs a side for 95%)`,
    )
    .join(', ');
  return (
    `${each}: the runs of each side spread so widely that at ${runs} runs a side no test can reliably catch even a 2x change ` +
    `(the best possible share of 2x changes caught at this spread, and the runs a side that would catch 95%). ` +
    `Record more runs, longer runs, or on a quieter machine; too-noisy here is not evidence that nothing changed`
  );
}

/** BASE and NEW are the two profiles of one `record --alternate`, as its two sides. */
export function recordedTogether(base: Profile, next: Profile): boolean {
  const a = base.alternated;
  const b = next.alternated;
  return a !== undefined && b !== undefined && a.id === b.id && a.side !== b.side;
}

export async function compare(opts: CompareOptions): Promise<CompareResult> {
  const base = readProfile(opts.base);
  const next = readProfile(opts.new);
  usable(base, `BASE ${opts.base}`);
  usable(next, `NEW ${opts.new}`);
  const warnings: string[] = [];

  const envDiff = environmentDifferences(base.env, next.env);
  if (envDiff.length > 0) {
    const what = envDiff.map((d) => `${d.field} ${JSON.stringify(d.base)} vs ${JSON.stringify(d.new)}`).join('; ');
    if (opts.strictEnv)
      throw new ProfileError(`BASE and NEW were recorded in different environments (${what}); --strict-env refuses to compare them`);
    warnings.push(`BASE and NEW were recorded in different environments (${what}): differences may come from the machines, not the change`);
  }
  const alternated = recordedTogether(base, next);
  const notes: string[] = [];
  if (alternated) {
    const swapped = base.alternated!.side === 'new' ? ' (BASE here is the side recorded after ::, NEW the one before it)' : '';
    notes.push(
      `BASE and NEW were recorded together by \`tuner record --alternate\`, run by run in ABBA order: load drift of the machine weighs on both alike${swapped}`,
    );
  } else if (JSON.stringify(base.command) !== JSON.stringify(next.command)) {
    warnings.push(
      `BASE and NEW ran different commands (${JSON.stringify(base.command.join(' '))} vs ${JSON.stringify(next.command.join(' '))})`,
    );
  }

  const baseRef = ref(opts.base, base);
  const newRef = ref(opts.new, next);
  if (
    baseRef.other_busy_pct !== null &&
    newRef.other_busy_pct !== null &&
    Math.abs(baseRef.other_busy_pct - newRef.other_busy_pct) > BUSY_DIFFERENCE_WARN
  ) {
    const busier = baseRef.other_busy_pct > newRef.other_busy_pct ? 'BASE' : 'NEW';
    warnings.push(
      `the machine was busier with other work during ${busier} (median ${baseRef.other_busy_pct.toFixed(0)}% of all CPUs during BASE runs, ` +
        `${newRef.other_busy_pct.toFixed(0)}% during NEW): scheduling, wait and pressure metrics may differ because of that, not the change`,
    );
  }

  const names = (p: Profile): string[] => [...new Set(p.runs.flatMap((r) => Object.keys(r.metrics)))];
  const sel = selectMetrics(names(base), names(next), opts.metrics);
  if (sel.onlyBase.length + sel.onlyNew.length > 0) {
    const parts = [
      sel.onlyBase.length ? `only in BASE: ${sel.onlyBase.join(', ')}` : '',
      sel.onlyNew.length ? `only in NEW: ${sel.onlyNew.join(', ')}` : '',
    ].filter(Boolean);
    warnings.push(`not compared (the profiles recorded different signals): ${parts.join('; ')}`);
  }
  if (sel.metrics.length === 0) throw new ProfileError('BASE and NEW have no metric in common: nothing to compare');

  const info: Record<string, MetricInfo> = {};
  for (const m of sel.metrics) info[m] = base.metrics[m] ?? next.metrics[m] ?? metricInfo(m);
  const rows = analyse(
    sel.metrics,
    base.runs.map((r) => r.metrics),
    next.runs.map((r) => r.metrics),
    {
      alpha: opts.alpha,
      threshold: opts.threshold,
      floor: (m) => info[m]!.floor,
      resamples: opts.resamples,
      gated: sel.gated,
      load: { base: loadOf(base), new: loadOf(next) },
    },
  );

  const waiting = rows.filter((r) => r.gated && r.verdict === 'needs-more-runs' && r.direction === 'worse');
  if (waiting.length > 0) {
    const need = Math.max(...waiting.map((r) => r.runs_needed ?? 0));
    warnings.push(
      `${waiting.map((r) => r.metric).join(', ')}: consistently worse than BASE beyond the threshold, but ${base.runs.length} BASE and ` +
        `${next.runs.length} NEW runs cannot make that significant` +
        (need > 0 ? `: record about ${need} runs a side (--repeat ${need}) to decide` : ': record more runs to decide') +
        (opts.allowNeedsMoreRuns ? ' (--allow-needs-more-runs: this passes the gate)' : ''),
    );
  }

  const reach = outOfReachWarning(rows, Math.min(base.runs.length, next.runs.length));
  if (reach) warnings.push(reach);

  const by = (v: string): string[] => rows.filter((r) => r.gated && r.verdict === v).map((r) => r.metric);
  const regressed = by('regressed');
  const failing = rows.filter((r) => failsGate(r, opts.allowNeedsMoreRuns)).map((r) => r.metric);
  return {
    base: baseRef,
    new: newRef,
    threshold: opts.threshold,
    alpha: opts.alpha,
    gated: sel.gated,
    info,
    metrics: rows,
    env_differences: envDiff,
    alternated,
    notes,
    warnings,
    regressed,
    improved: by('improved'),
    too_noisy: by('too-noisy'),
    needs_more_runs: by('needs-more-runs'),
    failing,
    allow_needs_more_runs: opts.allowNeedsMoreRuns ?? false,
    exit_code: regressed.length > 0 ? 1 : failing.length > 0 ? 3 : 0,
  };
}

type CompareFormat = 'table' | 'json' | 'markdown' | 'junit';

export const command: CommandSpec<CompareOptions & { format: CompareFormat; html?: string }, CompareResult> = {
  options([base, next], flags) {
    const f = flags as {
      threshold: string;
      alpha: string;
      metrics?: string;
      format: string;
      json?: boolean;
      markdown?: boolean;
      strictEnv?: boolean;
      allowNeedsMoreRuns?: boolean;
      html?: string;
    };
    return {
      base: base as string,
      new: next as string,
      threshold: parsePercent(f.threshold, '--threshold'),
      alpha: parseAlpha(f.alpha),
      metrics: f.metrics === undefined ? undefined : [f.metrics],
      strictEnv: f.strictEnv,
      allowNeedsMoreRuns: f.allowNeedsMoreRuns,
      html: f.html,
      format: f.json
        ? 'json'
        : f.markdown
          ? 'markdown'
          : parseChoice(f.format, ['table', 'json', 'markdown', 'junit'] as const, '--format'),
    };
  },
  async run(o) {
    const result = await compare(o);
    if (o.html !== undefined) await (await import('../output/compare-html.js')).writeHtmlReport(result, o.html);
    return result;
  },
  output: {
    indent: 2,
    json: (o) => o.format === 'json',
    async view(o) {
      if (o.format === 'markdown') return (await import('../output/compare-markdown.js')).renderMarkdown;
      if (o.format === 'junit') return (await import('../output/compare-junit.js')).renderJunit;
      const { renderCompare } = await import('../output/compare-view.js');
      return (r) => renderCompare(r) + '\n';
    },
  },
  after: (r, o) => ({ exitCode: r.exit_code, stderr: o.format === 'table' ? [] : r.warnings.map((w) => `tuner: WARNING: ${w}`) }),
};
