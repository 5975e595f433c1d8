/**
 * Which metrics a comparison compares and which it gates. Every metric both
 * profiles recorded is compared and reported; the gate (exit status) looks at
 * a primary set: by default the time totals (wall, CPU, run-queue wait,
 * futex wait, I/O wait), the figures a change costs users; `--metrics`
 * names the gated set instead: names, globs (`sched.*`, `*` for all) or
 * signal names (`futex` = `futex.*`). A pattern that matches nothing is an
 * error, not a silently empty gate. A small gated set is what lets 5 runs a
 * side decide (docs/compare.md).
 */
import { UsageError } from '../errors.js';

/** Gated by default: the time totals. Percentiles, counts and pressure are reported beside them. */
export const PRIMARY_METRICS = ['wall_ns', 'cpu_ns', 'sched.runq_wait_ns', 'futex.wait_ns', 'io.wait_ns'] as const;

export interface Selection {
  /** Every metric both profiles recorded: compared and reported. */
  metrics: string[];
  /** The metrics the gate looks at (a subset of `metrics`). */
  gated: string[];
  /** Metrics only one side has (different signals): not compared. */
  onlyBase: string[];
  onlyNew: string[];
}

function matcher(pattern: string): (name: string) => boolean {
  if (pattern.includes('*')) {
    const re = new RegExp(
      '^' +
        pattern
          .split('*')
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*') +
        '$',
    );
    return (n) => re.test(n);
  }
  return (n) => n === pattern || n.startsWith(pattern + '.') || n === `${pattern}_ns`;
}

export function selectMetrics(base: readonly string[], next: readonly string[], patterns?: readonly string[]): Selection {
  const common = base.filter((m) => next.includes(m));
  const onlyBase = base.filter((m) => !next.includes(m));
  const onlyNew = next.filter((m) => !base.includes(m));
  if (!patterns || patterns.length === 0) {
    const primary = common.filter((m) => (PRIMARY_METRICS as readonly string[]).includes(m));
    // Profiles of signals tuner does not know as primary: gate all they have.
    return { metrics: common, gated: primary.length > 0 ? primary : common, onlyBase, onlyNew };
  }
  const picked = new Set<string>();
  for (const p of patterns
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean)) {
    const match = matcher(p);
    const hits = common.filter(match);
    if (hits.length === 0) {
      const one = [...onlyBase, ...onlyNew].filter(match);
      throw new UsageError(
        one.length > 0
          ? `--metrics ${p}: ${one.join(', ')} ${one.length === 1 ? 'is' : 'are'} recorded in only one of the profiles`
          : `--metrics ${p}: no such metric (recorded: ${common.join(', ')})`,
      );
    }
    for (const h of hits) picked.add(h);
  }
  return { metrics: common, gated: common.filter((m) => picked.has(m)), onlyBase, onlyNew };
}
