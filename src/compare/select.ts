/**
 * Which metrics a comparison gates: by default every metric both profiles
 * recorded; `--metrics` narrows that to names, globs (`sched.*`) or signal
 * names (`futex` = `futex.*`). A pattern that matches nothing is an error,
 * not a silently empty gate.
 */
import { UsageError } from '../errors.js';

export interface Selection {
  metrics: string[];
  /** Metrics only one side has (different signals): not compared. */
  onlyBase: string[];
  onlyNew: string[];
}

function matcher(pattern: string): (name: string) => boolean {
  if (pattern.includes('*')) {
    const re = new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
    return (n) => re.test(n);
  }
  return (n) => n === pattern || n.startsWith(pattern + '.') || n === `${pattern}_ns`;
}

export function selectMetrics(base: readonly string[], next: readonly string[], patterns?: readonly string[]): Selection {
  const common = base.filter((m) => next.includes(m));
  const onlyBase = base.filter((m) => !next.includes(m));
  const onlyNew = next.filter((m) => !base.includes(m));
  if (!patterns || patterns.length === 0) return { metrics: common, onlyBase, onlyNew };
  const picked = new Set<string>();
  for (const p of patterns.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean)) {
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
  return { metrics: common.filter((m) => picked.has(m)), onlyBase, onlyNew };
}
