/**
 * `tuner compare BASE NEW`: per gated metric, the medians, their ratio, a
 * confidence interval and a test, and a verdict. Returns the comparison; the
 * CLI prints it (table, JSON, markdown, JUnit) and exits with `exit_code`:
 * 1 when a gated metric regressed beyond the threshold with significance,
 * 0 otherwise. Unreadable or incompatible profiles throw ProfileError (2).
 */
import { median } from 'simple-statistics';
import { environmentDifferences, type EnvDifference, type Environment } from '../record/env.js';
import { metricInfo, type MetricInfo } from '../record/metrics.js';
import { ProfileError, readProfile, type Profile } from '../record/profile.js';
import { analyse, runsNeeded, type MetricComparison } from '../compare/analyse.js';
import { selectMetrics } from '../compare/select.js';

export interface CompareOptions {
  base: string;
  new: string;
  /** 0.1 for 10%. */
  threshold: number;
  alpha: number;
  /** Names, globs or signal names; default: every metric both profiles have. */
  metrics?: string[];
  /** Different environments are an error (exit 2) instead of a warning. */
  strictEnv?: boolean;
  resamples?: number;
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

/** Percentage points of "other work" between BASE and NEW above which a comparison is called into doubt. */
export const BUSY_DIFFERENCE_WARN = 10;

export interface CompareResult {
  base: ProfileRef;
  new: ProfileRef;
  threshold: number;
  alpha: number;
  /** Metric name -> label, unit, floor. */
  info: Record<string, MetricInfo>;
  metrics: MetricComparison[];
  env_differences: EnvDifference[];
  warnings: string[];
  regressed: string[];
  improved: string[];
  too_noisy: string[];
  exit_code: 0 | 1;
}

function ref(path: string, p: Profile): ProfileRef {
  const busy = p.runs.map((r) => r.details['host.other_busy_pct']).filter((v): v is number => typeof v === 'number');
  return { path, command: p.command, runs: p.runs.length, recorded: p.env.date, env: p.env, other_busy_pct: busy.length ? median(busy) : null };
}

function usable(p: Profile, what: string): void {
  const bad = p.runs.find((r) => r.exit_code !== 0);
  if (bad) {
    const how = bad.exit_code === null ? `was killed by ${bad.signal ?? 'a signal'}` : `exited with code ${bad.exit_code}`;
    throw new ProfileError(`${what}: run ${bad.run} of the workload ${how}; a failed recording cannot be compared`);
  }
  if (p.runs.length === 0) throw new ProfileError(`${what}: the profile has no runs`);
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
    if (opts.strictEnv) throw new ProfileError(`BASE and NEW were recorded in different environments (${what}); --strict-env refuses to compare them`);
    warnings.push(`BASE and NEW were recorded in different environments (${what}): differences may come from the machines, not the change`);
  }
  if (JSON.stringify(base.command) !== JSON.stringify(next.command)) {
    warnings.push(`BASE and NEW ran different commands (${JSON.stringify(base.command.join(' '))} vs ${JSON.stringify(next.command.join(' '))})`);
  }

  const baseRef = ref(opts.base, base);
  const newRef = ref(opts.new, next);
  if (baseRef.other_busy_pct !== null && newRef.other_busy_pct !== null && Math.abs(baseRef.other_busy_pct - newRef.other_busy_pct) > BUSY_DIFFERENCE_WARN) {
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
    { alpha: opts.alpha, threshold: opts.threshold, floor: (m) => info[m]!.floor, resamples: opts.resamples },
  );

  const family = rows.filter((r) => r.in_family).length;
  if (family === 0 && rows.some((r) => r.test && r.test.min_p_regressed < 1)) {
    // Two claims (regressed, improved) per metric whose values are not all tied.
    const need = runsNeeded(2 * rows.filter((r) => r.test && r.test.min_p_regressed < 1).length, opts.alpha);
    warnings.push(
      `with ${base.runs.length} BASE and ${next.runs.length} NEW runs no metric can reach significance at alpha ${opts.alpha}: ` +
        `record at least ${need} runs on each side (--repeat ${need}), or gate fewer metrics (--metrics)`,
    );
  }

  const by = (v: string): string[] => rows.filter((r) => r.verdict === v).map((r) => r.metric);
  const regressed = by('regressed');
  return {
    base: baseRef,
    new: newRef,
    threshold: opts.threshold,
    alpha: opts.alpha,
    info,
    metrics: rows,
    env_differences: envDiff,
    warnings,
    regressed,
    improved: by('improved'),
    too_noisy: by('too-noisy'),
    exit_code: regressed.length > 0 ? 1 : 0,
  };
}
