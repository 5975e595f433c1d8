/** What PSI contributes to one run of `record`: the pressure stall time of the run, host-wide and in the workload's cgroup. */
import type { SignalSummary } from '../../record/summary.js';

type Json = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

/** The summary of one whole-run PSI record. */
export function summarise(record: unknown): SignalSummary {
  const r = record as Json;
  const metrics: SignalSummary['metrics'] = {};
  const details: SignalSummary['details'] = {};
  for (const res of ['cpu', 'memory', 'io'] as const) {
    const v = r[res] as Json | null | undefined;
    metrics[`psi.${res}_some_us`] = v ? num(v.some_total_us) : null;
    if (v && typeof v.full_total_us === 'number') details[`psi.${res}_full_us`] = v.full_total_us;
  }
  // The workload's own cgroup (unified hierarchy), when it has pressure files.
  for (const cg of arr(r.cgroups)) {
    for (const res of ['cpu', 'memory', 'io'] as const) {
      const v = cg[res] as Json | null | undefined;
      if (v) details[`psi.cgroup.${res}_some_us`] = num(v.some_total_us);
    }
    details['psi.cgroup'] = cg.cgroup;
    break;
  }
  return { metrics, details, warnings: [] };
}
