/**
 * The pressure signal opened as records: the host's PSI files, and those of
 * the scope's cgroups on the unified hierarchy (the PID's own cgroup, the
 * counterpart of a --cgroup, or the top-level ones).
 */
import { unifiedCgroupOf, unifiedCounterpart } from '../../scope/resolve.js';
import { readerSource } from '../source.js';
import type { RecordSource, SourceContext } from '../types.js';
import { defaultPsiCgroups, openPsi } from './procfs.js';
import { buildPsiRecord, type PsiRecord } from './record.js';

export async function openSource(ctx: SourceContext): Promise<RecordSource<PsiRecord>> {
  const { scope } = ctx;
  const unified = scope.layout.unified?.mountPoint;
  let cgroups: string[] = [];
  if (unified) {
    if (scope.pids) cgroups = [...new Set(scope.pids.map(unifiedCgroupOf).filter((c): c is string => c !== undefined))];
    else if (scope.cgroup) {
      const counterpart = unifiedCounterpart(scope);
      cgroups = counterpart ? defaultPsiCgroups(unified, counterpart) : [];
    } else cgroups = defaultPsiCgroups(unified);
  }
  const reader = openPsi({ unifiedRoot: unified, cgroups });
  return readerSource('psi', ctx, reader, (d) => buildPsiRecord(d, new Date()), 'procfs');
}
